import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { ApiKeyScope, Engine, StaffRole, FailureCode, GenerationStatus, OutputFormat, Workflow } from '@atelier/contracts';

/** Row types of every table, kept by hand next to the migrations that create them. */
type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

// better-auth's core tables, renamed to snake_case through its `fields` options (see accounts/auth.ts).
export interface UsersTable {
  id: string;
  name: string;
  email: string;
  email_verified: boolean;
  image: string | null;
  /** The age gate, confirmed at sign-up or once after a third-party sign-up (migration 0006). */
  age_confirmed: ColumnType<boolean, boolean | undefined, boolean>;
  /** Storage key of an uploaded avatar (a 256 px square, encrypted), served by GET /api/me/avatar. */
  avatar_key: string | null;
  /** Set by better-auth's twoFactor plugin once a TOTP secret is confirmed (migration 0007). */
  two_factor_enabled: ColumnType<boolean | null, boolean | undefined, boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}
export interface SessionsTable {
  id: string;
  token: string;
  user_id: string;
  expires_at: Date;
  ip_address: string | null;
  user_agent: string | null;
  created_at: CreatedAt;
  /** Last seen: refreshed by the auth hook at most once a minute (http/auth-hook.ts). */
  updated_at: UpdatedAt;
  /** Last password or TOTP re-entry in this session (migration 0007); null means only the sign-in. */
  reauthenticated_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** ISO country from the trusted proxy's header, at creation and with last seen (migration 0009); null when unknown. */
  country: ColumnType<string | null, string | null | undefined, string | null>;
}
export interface AccountsTable {
  id: string;
  account_id: string;
  provider_id: string;
  user_id: string;
  access_token: string | null;
  refresh_token: string | null;
  id_token: string | null;
  access_token_expires_at: Date | null;
  refresh_token_expires_at: Date | null;
  scope: string | null;
  password: string | null;
  /** With account_id (the subject), the third-party identity; null for the password account (migration 0006). */
  issuer: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}
export interface VerificationsTable {
  id: string;
  identifier: string;
  value: string;
  expires_at: Date;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface GenerationsTable {
  id: string;
  user_id: string;
  status: GenerationStatus;
  model_id: string;
  engine: Engine;
  engine_model: string;
  prompt: string;
  width: number;
  height: number;
  aspect_ratio: string | null;
  seed: number | null;
  output_format: OutputFormat;
  idempotency_key: string | null;
  request_hash: string;
  route_index: Generated<number>;
  route_history: ColumnType<RouteAttempt[], string | undefined, string>;
  engine_request_id: string | null;
  engine_handle: ColumnType<EngineHandleJson | null, string | null, string | null>;
  webhook_token_hash: string | null;
  submitted_at: Date | null;
  engine_finished_at: Date | null;
  engine_cost: number | null;
  progress: number | null;
  attempt: Generated<number>;
  lease_until: Date | null;
  error_code: FailureCode | null;
  /** Operator-facing detail (engine messages); never shown to end users verbatim. */
  error_detail: string | null;
  cost_credits: number | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  started_at: Date | null;
  completed_at: Date | null;
  parent_id: string | null;
  workflow: ColumnType<Workflow, Workflow | undefined, Workflow>;
  batch_id: string | null;
  favorite: Generated<boolean>;
  // prompt_tsv (tsvector, generated from prompt) is left out on purpose: only search reads it, via sql``.
}

export interface CollectionsTable {
  id: string;
  user_id: string;
  name: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CollectionItemsTable {
  collection_id: string;
  generation_id: string;
  added_at: CreatedAt;
}

export interface UploadsTable {
  id: string;
  user_id: string;
  width: number;
  height: number;
  format: OutputFormat;
  bytes: number;
  original_key: string;
  thumbnail_key: string;
  created_at: CreatedAt;
}

export interface GenerationReferencesTable {
  generation_id: string;
  position: number;
  upload_id: string | null;
  image_id: string | null;
}

/** EngineHandle as stored (adapters/providers/engine.ts). */
export interface EngineHandleJson {
  requestId: string;
  pollingUrl: string | null;
  extra?: Record<string, string>;
}

/** One route tried for a generation and how it ended there, for operators. */
export interface RouteAttempt {
  route: number;
  engine: Engine;
  engine_model: string;
  outcome: 'failed_over' | 'retried';
  reason: string;
  at: string;
}

export interface CatalogueOverridesTable {
  model_id: string;
  definition: ColumnType<unknown, string, string>;
  updated_by: string | null;
  updated_at: UpdatedAt;
}

export interface ImagesTable {
  id: string;
  generation_id: string;
  user_id: string;
  width: number;
  height: number;
  format: OutputFormat;
  bytes: number;
  original_key: string;
  thumbnail_key: string;
  preview_key: string;
  created_at: CreatedAt;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
  scopes: ApiKeyScope[];
  expires_at: Date | null;
}

export interface DB {
  users: UsersTable;
  sessions: SessionsTable;
  accounts: AccountsTable;
  verifications: VerificationsTable;
  generations: GenerationsTable;
  images: ImagesTable;
  api_keys: ApiKeysTable;
  staff_roles: StaffRolesTable;
  audit_events: AuditEventsTable;
  catalogue_overrides: CatalogueOverridesTable;
  uploads: UploadsTable;
  generation_references: GenerationReferencesTable;
  collections: CollectionsTable;
  collection_items: CollectionItemsTable;
  reference_kits: ReferenceKitsTable;
  reference_kit_items: ReferenceKitItemsTable;
  two_factors: TwoFactorsTable;
  two_factor_used_codes: TwoFactorUsedCodesTable;
  auth_throttle: AuthThrottleTable;
  auth_ip_attempts: AuthIpAttemptsTable;
  captcha_redemptions: CaptchaRedemptionsTable;
  ledger_accounts: LedgerAccountsTable;
  ledger_transactions: LedgerTransactionsTable;
  ledger_postings: LedgerPostingsTable;
  credit_lots: CreditLotsTable;
  credit_holds: CreditHoldsTable;
  credit_hold_lots: CreditHoldLotsTable;
  ledger_reconciliations: LedgerReconciliationsTable;
  billing_customers: BillingCustomersTable;
  stripe_events: StripeEventsTable;
  subscriptions: SubscriptionsTable;
  credit_purchases: CreditPurchasesTable;
  billing_disputes: BillingDisputesTable;
}

export type UploadRow = Selectable<UploadsTable>;
export type CollectionRow = Selectable<CollectionsTable>;

export type GenerationRow = Selectable<GenerationsTable>;
export type NewGeneration = Insertable<GenerationsTable>;
export type ImageRow = Selectable<ImagesTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;

export interface ReferenceKitsTable {
  id: string;
  user_id: string;
  name: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface ReferenceKitItemsTable {
  kit_id: string;
  position: number;
  upload_id: string | null;
  image_id: string | null;
}
export type ReferenceKitRow = Selectable<ReferenceKitsTable>;

export interface StaffRolesTable {
  user_id: string;
  role: StaffRole;
  granted_by: string | null;
  granted_at: CreatedAt;
}

/** Append-only (a trigger refuses UPDATE, DELETE and TRUNCATE): insert and select only. */
export interface AuditEventsTable {
  id: string;
  at: CreatedAt;
  actor_id: string | null;
  actor_ip: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  reason: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, never>;
}
export type AuditEventRow = Selectable<AuditEventsTable>;

// Migration 0007: two-factor authentication (better-auth's twoFactor plugin) and the sign-in throttle.
export interface TwoFactorsTable {
  id: string;
  user_id: string;
  secret: string;
  backup_codes: string;
  verified: boolean | null;
  failed_verification_count: number | null;
  locked_until: Date | null;
}
export interface TwoFactorUsedCodesTable {
  user_id: string;
  code: string;
  used_at: ColumnType<Date, Date | undefined, Date>;
}
export interface AuthThrottleTable {
  email: string;
  failures: ColumnType<number, number | undefined, number>;
  last_failure_at: Date | null;
  locked_at: Date | null;
}
export interface AuthIpAttemptsTable {
  ip: string;
  window_start: Date;
  attempts: ColumnType<number, number | undefined, number>;
}
/** A solved sign-in CAPTCHA challenge (by its HMAC signature), kept until it expires so it works once. */
export interface CaptchaRedemptionsTable {
  signature: string;
  expires_at: Date;
}

// Migration 0011: the credits ledger (modules/credits). int8 arrives as a JS number on both backends
// (db/client.ts); sums are cast back to bigint in SQL, since sum(bigint) is numeric.
export type LedgerAccountKind = 'available' | 'held' | 'disputed' | 'grants' | 'purchases' | 'consumed' | 'expired' | 'dispute_loss';
export interface LedgerAccountsTable {
  id: string;
  user_id: string | null;
  kind: LedgerAccountKind;
  balance: ColumnType<number, number | undefined, number>;
}
/** Append-only (triggers refuse UPDATE, DELETE, TRUNCATE). */
export interface LedgerTransactionsTable {
  id: string;
  idempotency_key: string;
  kind: string;
  user_id: string | null;
  generation_id: string | null;
  reference: string | null;
  actor_id: string | null;
  reason: string | null;
  metadata: ColumnType<Record<string, unknown>, string | undefined, never>;
  created_at: CreatedAt;
}
export interface LedgerPostingsTable {
  id: Generated<number>;
  transaction_id: string;
  account_id: string;
  amount: number;
}
export interface CreditLotsTable {
  id: string;
  user_id: string;
  transaction_id: string;
  source: string;
  granted: number;
  remaining: number;
  expires_at: Date | null;
  created_at: CreatedAt;
}
export interface CreditHoldsTable {
  generation_id: string;
  user_id: string;
  amount: number;
  state: 'held' | 'captured' | 'released';
  api_key_id: string | null;
  created_at: CreatedAt;
  expires_at: Date;
  settled_at: Date | null;
}
export interface CreditHoldLotsTable {
  generation_id: string;
  lot_id: string;
  amount: number;
}
export interface LedgerReconciliationsTable {
  id: string;
  at: CreatedAt;
  ok: boolean;
  checked_accounts: number;
  problems: ColumnType<unknown[], string | undefined, never>;
}

// Migration 0012: payments through Stripe (modules/billing).
export interface BillingCustomersTable {
  user_id: string;
  stripe_customer_id: string;
  flagged_at: Date | null;
  flag_reason: string | null;
  created_at: CreatedAt;
}
export interface StripeEventsTable {
  id: string;
  type: string;
  object_id: string | null;
  stripe_created: Date;
  received_at: CreatedAt;
  processed_at: Date | null;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  source: ColumnType<'webhook' | 'reconciliation', 'webhook' | 'reconciliation' | undefined, never>;
}
export interface SubscriptionsTable {
  id: string;
  user_id: string;
  plan_id: string;
  status: string;
  current_period_end: Date | null;
  cancel_at_period_end: boolean;
  updated_at: UpdatedAt;
}
export interface CreditPurchasesTable {
  id: string;
  user_id: string;
  kind: 'pack' | 'plan';
  item_id: string;
  item_name: string;
  credits: number;
  amount: number;
  currency: string;
  status: string;
  payment_intent: string | null;
  charge: string | null;
  receipt_url: string | null;
  stripe_object: string;
  created_at: CreatedAt;
}
export interface BillingDisputesTable {
  id: string;
  user_id: string;
  purchase_id: string;
  credits: number;
  frozen: number;
  status: string;
  created_at: CreatedAt;
  closed_at: Date | null;
}
