import { sql, type Kysely } from 'kysely';

/** Reference uploads, a generation's references, and its parent for refinement (issue 4). */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`create table uploads (
      id uuid primary key,
      user_id text not null references users(id) on delete cascade,
      width integer not null,
      height integer not null,
      format text not null check (format in ('jpeg','png','webp')),
      bytes integer not null,
      original_key text not null,
      thumbnail_key text not null,
      created_at timestamptz not null default now()
    )`,
    sql`create index uploads_user_idx on uploads (user_id, id desc)`,

    // What a generation was made from, in the order the user gave: their uploads or earlier outputs.
    // Deleting one leaves its slot empty (both null), so a queued generation fails clearly instead of
    // quietly running without it.
    sql`create table generation_references (
      generation_id uuid not null references generations(id) on delete cascade,
      position integer not null check (position >= 0),
      upload_id uuid references uploads(id) on delete set null,
      image_id uuid references images(id) on delete set null,
      primary key (generation_id, position),
      check (upload_id is null or image_id is null)
    )`,
    sql`create index generation_references_upload_idx on generation_references (upload_id) where upload_id is not null`,
    sql`create index generation_references_image_idx on generation_references (image_id) where image_id is not null`,

    // Refinement: the generation this one was made from. The version history is the graph of these links.
    sql`alter table generations add column parent_id uuid references generations(id) on delete set null`,
    sql`create index generations_parent_idx on generations (parent_id) where parent_id is not null`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    sql`alter table generations drop column parent_id`,
    sql`drop table if exists generation_references`,
    sql`drop table if exists uploads`,
  ])
    await statement.execute(db);
}
