import { sql, type Kysely } from 'kysely';

/** Engine routes and fail-over, webhooks, staff permissions and catalogue overrides (issue 3). */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    // Which route of the model is serving the generation, and how it went on the routes before it.
    sql`alter table generations add column route_index integer not null default 0`,
    sql`alter table generations add column route_history jsonb not null default '[]'::jsonb`,
    // The engine's whole handle (request id, polling URL, engine-specific URLs), so a restart can resume.
    sql`alter table generations add column engine_handle jsonb`,
    sql`update generations set engine_handle = jsonb_build_object('requestId', engine_request_id, 'pollingUrl', engine_polling_url) where engine_request_id is not null`,
    sql`alter table generations drop column engine_polling_url`,
    // Only a hash of the per-generation webhook token is kept.
    sql`alter table generations add column webhook_token_hash text`,
    sql`alter table generations add column submitted_at timestamptz`,
    sql`alter table generations add column engine_finished_at timestamptz`,
    sql`create index generations_engine_request_idx on generations (engine, engine_request_id) where engine_request_id is not null`,

    sql`create table staff_grants (
      user_id text not null references users(id) on delete cascade,
      permission text not null,
      granted_at timestamptz not null default now(),
      primary key (user_id, permission)
    )`,

    sql`create table catalogue_overrides (
      model_id text primary key,
      definition jsonb not null,
      updated_by text references users(id) on delete set null,
      updated_at timestamptz not null default now()
    )`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    sql`drop table if exists catalogue_overrides`,
    sql`drop table if exists staff_grants`,
    sql`drop index if exists generations_engine_request_idx`,
    sql`alter table generations add column engine_polling_url text`,
    sql`update generations set engine_polling_url = engine_handle->>'pollingUrl'`,
    sql`alter table generations drop column route_index, drop column route_history, drop column engine_handle, drop column webhook_token_hash, drop column submitted_at, drop column engine_finished_at`,
  ])
    await statement.execute(db);
}
