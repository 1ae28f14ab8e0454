import { sql, type Kysely } from 'kysely';

/**
 * History at scale (issue 4): what each generation was (workflow), variations made together (batch),
 * favourites, full-text search over prompts, and collections (boards).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const statements = [
    sql`alter table generations add column workflow text not null default 'text-to-image'
      check (workflow in ('text-to-image','image-to-image','multi-reference','upscale'))`,
    sql`update generations g set workflow = case when r.n = 1 then 'image-to-image' else 'multi-reference' end
      from (select generation_id, count(*) as n from generation_references group by generation_id) r
      where r.generation_id = g.id`,
    sql`alter table generations add column batch_id uuid`,
    sql`alter table generations add column favorite boolean not null default false`,
    // 'simple' (no stemming, no stop words): prompts are in any language, and prefix queries ("cat:*")
    // cover plurals. Generated, so it can never disagree with the prompt.
    sql`alter table generations add column prompt_tsv tsvector generated always as (to_tsvector('simple', prompt)) stored`,
    sql`create index generations_prompt_tsv_idx on generations using gin (prompt_tsv)`,
    sql`create index generations_model_idx on generations (user_id, model_id, id desc)`,
    sql`create index generations_favorite_idx on generations (user_id, id desc) where favorite`,
    sql`create index generations_batch_idx on generations (batch_id) where batch_id is not null`,

    sql`create table collections (
      id uuid primary key,
      user_id text not null references users(id) on delete cascade,
      name text not null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`,
    sql`create unique index collections_name_idx on collections (user_id, lower(name))`,
    sql`create table collection_items (
      collection_id uuid not null references collections(id) on delete cascade,
      generation_id uuid not null references generations(id) on delete cascade,
      added_at timestamptz not null default now(),
      primary key (collection_id, generation_id)
    )`,
    sql`create index collection_items_generation_idx on collection_items (generation_id)`,
    // A collection's cover: its most recently added items first.
    sql`create index collection_items_added_idx on collection_items (collection_id, added_at desc)`,
  ];
  for (const statement of statements) await statement.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of [
    sql`drop table if exists collection_items`,
    sql`drop table if exists collections`,
    sql`alter table generations drop column prompt_tsv`,
    sql`alter table generations drop column favorite`,
    sql`alter table generations drop column batch_id`,
    sql`alter table generations drop column workflow`,
  ])
    await statement.execute(db);
}
