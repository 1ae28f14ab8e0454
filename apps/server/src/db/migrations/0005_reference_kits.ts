import { sql, type Kysely } from 'kysely';

/** Named reference kits (issue: reference library): references a user reuses together, in order. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`create table reference_kits (
      id uuid primary key,
      user_id text not null references users(id) on delete cascade,
      name text not null check (char_length(name) between 1 and 80),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    // Names are unique per user regardless of case: "Mara" and "mara" would be the same kit to a person.
    sql`create unique index reference_kits_name_idx on reference_kits (user_id, lower(name))`,

    // Each slot holds exactly one of the user's uploads or images. Deleting the upload or image takes it
    // out of every kit (a kit keeps what is left, in order; gaps in position are fine).
    sql`create table reference_kit_items (
      kit_id uuid not null references reference_kits(id) on delete cascade,
      position integer not null check (position >= 0),
      upload_id uuid references uploads(id) on delete cascade,
      image_id uuid references images(id) on delete cascade,
      primary key (kit_id, position),
      check ((upload_id is null) <> (image_id is null))
    )`,
    // Also the indexes the cascades from uploads and images use.
    sql`create unique index reference_kit_items_upload_idx on reference_kit_items (upload_id, kit_id) where upload_id is not null`,
    sql`create unique index reference_kit_items_image_idx on reference_kit_items (image_id, kit_id) where image_id is not null`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [sql`drop table if exists reference_kit_items`, sql`drop table if exists reference_kits`]) await statement.execute(db);
}
