import { sql, type Kysely } from 'kysely';

/**
 * Two-factor authentication (better-auth's twoFactor plugin, snake_case through its `schema` map in
 * modules/accounts/auth.ts), re-authentication time on sessions, and the sign-in throttle's state, kept
 * in the database so every API process sees the same counters.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`alter table users add column two_factor_enabled boolean default false`,
    sql`create table two_factors (
      id text primary key,
      user_id text not null references users(id) on delete cascade,
      secret text not null,
      backup_codes text not null,
      verified boolean default true,
      failed_verification_count integer default 0,
      locked_until timestamptz
    )`,
    sql`create index two_factors_user_id_idx on two_factors (user_id)`,
    sql`create index two_factors_secret_idx on two_factors (secret)`,
    // A TOTP code is valid for ±1 period (90 s); each one is accepted once (replay protection).
    sql`create table two_factor_used_codes (
      user_id text not null references users(id) on delete cascade,
      code text not null,
      used_at timestamptz not null default now(),
      primary key (user_id, code)
    )`,
    // When the user last proved who they are in this session (sign-in, or POST /api/me/reauthenticate).
    sql`alter table sessions add column reauthenticated_at timestamptz`,
    // Consecutive failed password attempts per normalized email, known or not (SEC-3).
    sql`create table auth_throttle (
      email text primary key,
      failures integer not null default 0,
      last_failure_at timestamptz,
      locked_at timestamptz
    )`,
    // Password attempts per client IP, in one-minute windows.
    sql`create table auth_ip_attempts (
      ip text not null,
      window_start timestamptz not null,
      attempts integer not null default 0,
      primary key (ip, window_start)
    )`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['auth_ip_attempts', 'auth_throttle', 'two_factor_used_codes', 'two_factors']) await sql`drop table if exists ${sql.table(table)}`.execute(db);
  await sql`alter table sessions drop column if exists reauthenticated_at`.execute(db);
  await sql`alter table users drop column if exists two_factor_enabled`.execute(db);
}
