import { sql, type Kysely } from 'kysely';

/**
 * Issue 6: the credits ledger (reliability.md LED-1…LED-10).
 *
 * - `ledger_transactions` + `ledger_postings`: append-only double entry. Every transaction has a unique
 *   idempotency key, and a deferred constraint trigger refuses to commit one whose postings do not sum
 *   to zero. Triggers refuse UPDATE, DELETE and TRUNCATE: corrections are compensating entries.
 * - `ledger_accounts`: one row per account. A user's `available`, `held` and `disputed` balances are
 *   materialised here, updated in the same transaction as their postings, and can never go negative
 *   (CHECK). System accounts (grants, purchases, consumed, expired, dispute_loss) keep no running balance:
 *   updating one hot row for every user's posting would serialise all users; reconciliation sums them.
 * - `credit_lots`: where a user's available credits came from and when they expire (expiring credits are
 *   spent first); Σ remaining = the available balance, which reconciliation checks.
 * - `credit_holds`: one per generation, `held` → `captured` | `released` by a conditional update, so
 *   capture and release exclude each other and repeat harmlessly.
 * User ids carry no foreign keys: the books outlive an erased account (the ids stay, pseudonymous).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`create table ledger_accounts (
      id text primary key,
      user_id text,
      kind text not null check (kind in ('available', 'held', 'disputed', 'grants', 'purchases', 'consumed', 'expired', 'dispute_loss')),
      balance bigint not null default 0,
      constraint ledger_accounts_never_negative check (user_id is null or balance >= 0),
      constraint ledger_accounts_user_kind unique (user_id, kind)
    )`,
    sql`insert into ledger_accounts (id, kind) values
      ('system:grants', 'grants'), ('system:purchases', 'purchases'), ('system:consumed', 'consumed'),
      ('system:expired', 'expired'), ('system:dispute_loss', 'dispute_loss')`,

    sql`create table ledger_transactions (
      id uuid primary key,
      idempotency_key text not null unique check (length(idempotency_key) between 1 and 255),
      kind text not null,
      user_id text,
      generation_id uuid,
      reference text,
      actor_id text,
      reason text,
      metadata jsonb not null default '{}'::jsonb,
      created_at timestamptz not null default now()
    )`,
    sql`create index ledger_transactions_user_idx on ledger_transactions (user_id, id)`,
    sql`create index ledger_transactions_generation_idx on ledger_transactions (generation_id) where generation_id is not null`,

    sql`create table ledger_postings (
      id bigint generated always as identity primary key,
      transaction_id uuid not null references ledger_transactions(id),
      account_id text not null references ledger_accounts(id),
      amount bigint not null check (amount <> 0)
    )`,
    sql`create index ledger_postings_transaction_idx on ledger_postings (transaction_id)`,
    sql`create index ledger_postings_account_idx on ledger_postings (account_id)`,

    // Σ postings = 0 per transaction, checked at commit (postings are inserted one statement at a time).
    sql`create function ledger_check_balanced() returns trigger language plpgsql as $$
      declare total bigint;
      begin
        select coalesce(sum(amount), 0) into total from ledger_postings where transaction_id = new.transaction_id;
        if total <> 0 then
          raise exception 'ledger transaction % is unbalanced (postings sum to %)', new.transaction_id, total using errcode = 'check_violation';
        end if;
        return null;
      end
    $$`,
    sql`create constraint trigger ledger_postings_balanced after insert on ledger_postings
      deferrable initially deferred for each row execute function ledger_check_balanced()`,

    sql`create function ledger_refuse_change() returns trigger language plpgsql as $$
      begin
        raise exception '% is append-only: % refused', tg_table_name, tg_op using errcode = 'insufficient_privilege';
      end
    $$`,
    sql`create trigger ledger_transactions_append_only before update or delete on ledger_transactions for each row execute function ledger_refuse_change()`,
    sql`create trigger ledger_transactions_no_truncate before truncate on ledger_transactions for each statement execute function ledger_refuse_change()`,
    sql`create trigger ledger_postings_append_only before update or delete on ledger_postings for each row execute function ledger_refuse_change()`,
    sql`create trigger ledger_postings_no_truncate before truncate on ledger_postings for each statement execute function ledger_refuse_change()`,

    sql`create table credit_lots (
      id uuid primary key,
      user_id text not null,
      transaction_id uuid not null references ledger_transactions(id),
      source text not null,
      granted bigint not null check (granted > 0),
      remaining bigint not null check (remaining >= 0 and remaining <= granted),
      expires_at timestamptz,
      created_at timestamptz not null default now()
    )`,
    // Spending order: expiring lots first (soonest first), then the rest, oldest first.
    sql`create index credit_lots_spend_idx on credit_lots (user_id, (expires_at is null), expires_at, id) where remaining > 0`,
    sql`create index credit_lots_expiry_idx on credit_lots (expires_at) where remaining > 0 and expires_at is not null`,

    sql`create table credit_holds (
      generation_id uuid primary key,
      user_id text not null,
      amount bigint not null check (amount >= 0),
      state text not null check (state in ('held', 'captured', 'released')),
      api_key_id text,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      settled_at timestamptz
    )`,
    sql`create index credit_holds_open_idx on credit_holds (expires_at) where state = 'held'`,
    sql`create index credit_holds_user_open_idx on credit_holds (user_id) where state = 'held'`,
    sql`create table credit_hold_lots (
      generation_id uuid not null references credit_holds(generation_id),
      lot_id uuid not null references credit_lots(id),
      amount bigint not null check (amount > 0),
      primary key (generation_id, lot_id)
    )`,

    // Admission counts a user's unfinished generations (the plan's concurrency limit) under the credits lock.
    sql`create index generations_user_unfinished_idx on generations (user_id) where status in ('queued', 'running')`,

    // Nightly checks (LED-9): what was found, for staff and the metrics endpoint.
    sql`create table ledger_reconciliations (
      id uuid primary key,
      at timestamptz not null default now(),
      ok boolean not null,
      checked_accounts integer not null,
      problems jsonb not null default '[]'::jsonb
    )`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    sql`drop table if exists ledger_reconciliations`,
    sql`drop index if exists generations_user_unfinished_idx`,
    sql`drop table if exists credit_hold_lots`,
    sql`drop table if exists credit_holds`,
    sql`drop table if exists credit_lots`,
    sql`drop table if exists ledger_postings`,
    sql`drop table if exists ledger_transactions`,
    sql`drop table if exists ledger_accounts`,
    sql`drop function if exists ledger_refuse_change()`,
    sql`drop function if exists ledger_check_balanced()`,
  ])
    await statement.execute(db);
}
