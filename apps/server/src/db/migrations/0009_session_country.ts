import { sql, type Kysely } from 'kysely';

/**
 * The approximate location of a session for the sessions list: the ISO 3166-1 alpha-2 country a trusted
 * proxy or CDN reported for the client (GEO_COUNTRY_HEADER, only with TRUST_PROXY), recorded when the
 * session is created and refreshed with its last-seen time. better-auth knows it as the session's
 * additional field `country` (modules/accounts/auth.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table sessions add column country text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table sessions drop column if exists country`.execute(db);
}
