import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    // better-auth core tables (column names mapped to snake_case in modules/accounts/auth.ts).
    sql`create table users (
      id text primary key,
      name text not null,
      email text not null unique,
      email_verified boolean not null default false,
      image text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    sql`create table sessions (
      id text primary key,
      token text not null unique,
      user_id text not null references users(id) on delete cascade,
      expires_at timestamptz not null,
      ip_address text,
      user_agent text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    sql`create index sessions_user_id_idx on sessions (user_id)`,
    sql`create table accounts (
      id text primary key,
      account_id text not null,
      provider_id text not null,
      user_id text not null references users(id) on delete cascade,
      access_token text,
      refresh_token text,
      id_token text,
      access_token_expires_at timestamptz,
      refresh_token_expires_at timestamptz,
      scope text,
      password text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    sql`create index accounts_user_id_idx on accounts (user_id)`,
    sql`create table verifications (
      id text primary key,
      identifier text not null,
      value text not null,
      expires_at timestamptz not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    sql`create index verifications_identifier_idx on verifications (identifier)`,

    sql`create table generations (
      id uuid primary key,
      user_id text not null references users(id) on delete cascade,
      status text not null check (status in ('queued','running','succeeded','failed','canceled','blocked')),
      model_id text not null,
      engine text not null,
      engine_model text not null,
      prompt text not null,
      width integer not null check (width > 0),
      height integer not null check (height > 0),
      aspect_ratio text,
      seed bigint,
      output_format text not null check (output_format in ('jpeg','png','webp')),
      idempotency_key text,
      request_hash text not null,
      engine_request_id text,
      engine_polling_url text,
      engine_cost double precision,
      progress real,
      attempt integer not null default 0,
      lease_until timestamptz,
      error_code text,
      error_detail text,
      cost_credits integer,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      started_at timestamptz,
      completed_at timestamptz
    )`,
    // History is read newest first with keyset pagination on id: UUIDv7 ids sort by creation time.
    sql`create index generations_user_id_idx on generations (user_id, id desc)`,
    sql`create unique index generations_idempotency_idx on generations (user_id, idempotency_key) where idempotency_key is not null`,
    // The sweeper looks for unfinished generations only.
    sql`create index generations_unfinished_idx on generations (status, lease_until) where status in ('queued','running')`,

    sql`create table images (
      id uuid primary key,
      generation_id uuid not null references generations(id) on delete cascade,
      user_id text not null references users(id) on delete cascade,
      width integer not null,
      height integer not null,
      format text not null,
      bytes integer not null,
      original_key text not null,
      thumbnail_key text not null,
      preview_key text not null,
      created_at timestamptz not null default now()
    )`,
    sql`create index images_generation_idx on images (generation_id)`,

    sql`create table api_keys (
      id uuid primary key,
      user_id text not null references users(id) on delete cascade,
      name text not null,
      prefix text not null,
      key_hash text not null unique,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    )`,
    sql`create index api_keys_user_idx on api_keys (user_id)`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['api_keys', 'images', 'generations', 'verifications', 'accounts', 'sessions', 'users']) {
    await sql`drop table if exists ${sql.table(table)} cascade`.execute(db);
  }
}
