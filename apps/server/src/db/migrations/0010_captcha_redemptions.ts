import { sql, type Kysely } from 'kysely';

/**
 * Issue 5, SEC-3: the sign-in CAPTCHA's solved challenges, kept until they expire so that one solution
 * opens one sign-in attempt, whichever API process receives it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table captcha_redemptions (
    signature text primary key,
    expires_at timestamptz not null
  )`.execute(db);
  await sql`create index captcha_redemptions_expires_idx on captcha_redemptions (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists captcha_redemptions`.execute(db);
}
