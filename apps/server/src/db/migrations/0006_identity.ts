import { sql, type Kysely } from 'kysely';

/**
 * Identity (issue 5): the age gate as a yes/no (never a birth date), an uploaded avatar's storage key,
 * and the issuer of a third-party identity, which with the subject (`account_id`) is the identity.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table users add column age_confirmed boolean not null default false`.execute(db);
  await sql`alter table users add column avatar_key text`.execute(db);
  await sql`alter table accounts add column issuer text`.execute(db);
  // One local account per provider identity.
  await sql`create unique index accounts_provider_subject_idx on accounts (provider_id, account_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index accounts_provider_subject_idx`.execute(db);
  await sql`alter table accounts drop column issuer`.execute(db);
  await sql`alter table users drop column avatar_key`.execute(db);
  await sql`alter table users drop column age_confirmed`.execute(db);
}
