/**
 * What bench/history.ts runs inside the Atelier server process (lib/atelier-child.ts loads this module there),
 * through the server's own database handle (container.database: the embedded PGlite the server opened, or its
 * PostgreSQL pool):
 *
 *   'seed'     { userId, generations, otherUsers, perOtherUser, collectionShare, favoriteShare }
 *              one user's history (succeeded generations with one image each, UUIDv7 ids in time order over a
 *              year, prompts from word lists) plus other users' rows, a collection, favourites; then VACUUM ANALYZE
 *   'prepare'  { userId, scenarios }   per scenario: matching rows and the cursor of the requested depth
 *   'direct'   { userId, query }       GenerationService.list in the server process (no HTTP, no presenter), ms
 *   'explain'  { userId, query }       EXPLAIN (ANALYZE, BUFFERS) of every query GenerationService.list makes (recorded
 *                                      from a GenerationService wired over a recording Kysely)
 */
import { performance } from 'node:perf_hooks';
import { CompiledQuery, sql, type Kysely, type KyselyPlugin, type RootOperationNode } from 'kysely';
import { boundEnd, boundStart, listGenerationsQuerySchema, type ListGenerationsQuery } from '../../packages/contracts/src/generations.ts';
import type { DB } from '../../apps/server/src/db/schema.ts';
import { newId } from '../../apps/server/src/lib/ids.ts';
import { createCollectionsRepository } from '../../apps/server/src/modules/collections/collections.repository.ts';
import { createGenerationsRepository, type HistoryFilters } from '../../apps/server/src/modules/generations/generations.repository.ts';
import { createGenerationService } from '../../apps/server/src/modules/generations/generations.service.ts';
import { createReferencesRepository } from '../../apps/server/src/modules/generations/references.repository.ts';
import { createMediaRepository } from '../../apps/server/src/modules/media/media.repository.ts';
import type { Atelier } from './atelier.ts';
import type { ChildHandlers } from './atelier-child.ts';

// ---------------------------------------------------------------------------------------------------
// Prompts: "<adjective> <subject> <place>, <style>, <lighting>[, <detail>…]"

const ADJECTIVES = ['ancient', 'tiny', 'giant', 'lonely', 'majestic', 'weathered', 'glowing', 'misty', 'colorful', 'serene', 'abandoned', 'futuristic', 'rustic', 'elegant', 'playful', 'mysterious', 'frozen', 'overgrown', 'golden', 'crimson', 'silver', 'curious', 'sleepy', 'fierce', 'delicate', 'vintage', 'minimalist', 'ornate', 'windswept', 'sunlit', 'moody', 'whimsical', 'brutalist', 'cozy', 'sprawling'];
const SUBJECTS = ['lighthouse', 'fox', 'cat', 'owl', 'dragon', 'robot', 'castle', 'cottage', 'forest', 'mountain', 'river', 'city', 'market', 'train station', 'bridge', 'sailboat', 'teapot', 'bicycle', 'astronaut', 'samurai', 'dancer', 'violinist', 'old man', 'young woman', 'child', 'wolf', 'bear', 'whale', 'jellyfish', 'butterfly', 'garden', 'library', 'cathedral', 'greenhouse', 'diner', 'skyscraper', 'desert', 'canyon', 'waterfall', 'island', 'volcano', 'temple', 'knight', 'witch', 'chef', 'mechanic', 'hummingbird', 'tiger', 'elephant', 'horse'];
const PLACES = ['at dusk', 'at dawn', 'in the rain', 'under the stars', 'in a snowstorm', 'by the sea', 'in a neon city', 'on a quiet street', 'in a dense jungle', 'on the moon', 'in a small village', 'inside a cave', 'on a rooftop', 'in an autumn park', 'at the edge of a cliff', 'in a flooded street', 'in a busy kitchen', 'on a foggy pier', 'in a wheat field', 'beside a campfire', 'in a crowded cafe', 'under cherry blossoms', 'in a desert oasis', 'on a frozen lake', 'in a rainforest', 'in an empty museum', 'in a subway car', 'on a mountain pass', 'in a sunflower field', 'at a night market', 'in a coral reef', 'in a steampunk workshop', 'among ruins', 'in a zen garden', 'on a stormy sea'];
const STYLES = ['oil painting', 'watercolor', 'digital art', 'photograph', 'studio portrait', 'cinematic still', 'concept art', 'pencil sketch', 'ink drawing', 'anime style', 'pixel art', 'low poly render', 'isometric illustration', 'art nouveau poster', 'ukiyo-e print', 'charcoal drawing', 'pastel illustration', 'comic book panel', 'claymation', 'papercut art', 'impressionist painting', 'surrealist painting', 'matte painting', 'children book illustration', '35mm film photo', 'polaroid', 'macro photograph', 'aerial photograph', 'double exposure', 'stained glass'];
const LIGHTING = ['golden hour light', 'soft diffused light', 'dramatic rim light', 'neon glow', 'volumetric light', 'candlelight', 'overcast sky', 'harsh midday sun', 'moonlight', 'backlit', 'studio lighting', 'blue hour', 'bioluminescent glow', 'warm lamplight', 'cold fluorescent light', 'dappled sunlight', 'stormy sky', 'firelight', 'high key', 'low key'];
const DETAILS = ['highly detailed', '8k', 'sharp focus', 'shallow depth of field', 'wide angle', 'bokeh', 'film grain', 'muted colors', 'vibrant colors', 'symmetrical composition', 'rule of thirds', 'trending on artstation', 'intricate patterns', 'long exposure', 'tilt shift', 'hdr', 'muted pastel palette', 'high contrast', 'soft focus', 'dynamic pose', 'close-up', 'full body shot', 'from above', 'from below', 'reflections', 'motion blur', 'dust particles', 'lens flare', 'monochrome', 'sepia tone', 'bold outlines', 'textured paper', 'thick brush strokes', 'clean lines', 'gentle gradients', 'rich shadows', 'atmospheric perspective', 'storybook mood', 'melancholic', 'joyful'];
/** In about one prompt in 5 000: what a search for a rare word finds. */
export const RARE_WORD = 'axolotl';

const MODELS: [string, number][] = [
  ['flux-2-pro', 0.4],
  ['flux-2-dev', 0.2],
  ['flux-2-klein-4b', 0.1],
  ['flux-2-flex', 0.1],
  ['flux-2-max', 0.08],
  ['flux-2-klein-9b', 0.07],
  ['openai-image', 0.05],
];
const SIZES: [number, number][] = [
  [1024, 1024],
  [1344, 768],
  [768, 1344],
  [1536, 1024],
  [1024, 1536],
  [1440, 1440],
];

/** A SQL array literal of our own constant words (checked, so sql.raw is safe). */
function words(list: readonly string[]) {
  for (const w of list) if (!/^[a-z0-9 -]+$/.test(w)) throw new Error(`unexpected word "${w}"`);
  return sql.raw(`array[${list.map((w) => `'${w}'`).join(',')}]`);
}
const pick = (list: readonly string[]) => sql`(${words(list)})[1 + floor(random() * ${sql.lit(list.length)})::int]`;

/** A UUIDv7 for the instant `ts` (48-bit Unix ms, version 7, RFC variant; the rest random), as lib/ids.ts makes them. */
const uuidv7At = (ts: ReturnType<typeof sql>) =>
  sql`encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing substring(int8send(floor(extract(epoch from ${ts}) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid`;

async function seedGenerations(db: Kysely<DB>, userId: string, count: number, favoriteShare: number): Promise<void> {
  const modelCase = sql.raw(
    `case ${MODELS.map(([id], i) => `when r_model < ${MODELS.slice(0, i + 1).reduce((a, [, p]) => a + p, 0).toFixed(4)} then '${id}'`).join(' ')} else '${MODELS[0]![0]}' end`,
  );
  const sizeIndex = sql.raw(`(1 + floor(r_size * ${SIZES.length}))::int`);
  const widths = sql.raw(`(array[${SIZES.map(([w]) => w).join(',')}])`);
  const heights = sql.raw(`(array[${SIZES.map(([, h]) => h).join(',')}])`);
  // Evenly over the last 365 days, each row at a random point of its own slot, so id order is time order.
  await sql`
    insert into generations (id, user_id, status, model_id, engine, engine_model, prompt, width, height, aspect_ratio, seed, output_format,
      request_hash, attempt, cost_credits, created_at, updated_at, started_at, submitted_at, engine_finished_at, completed_at, workflow, favorite, progress)
    select ${uuidv7At(sql`ts`)}, ${userId}, 'succeeded', model, 'bfl', model, prompt, ${widths}[${sizeIndex}], ${heights}[${sizeIndex}], null,
      floor(random() * 4294967295)::bigint, 'jpeg', md5(${userId} || i::text), 1, 4 + floor(random() * 8)::int,
      ts, ts + interval '20 seconds', ts + interval '150 milliseconds', ts + interval '300 milliseconds', ts + interval '12 seconds', ts + interval '13 seconds',
      case when r_workflow < 0.08 then 'image-to-image' else 'text-to-image' end, r_favorite < ${favoriteShare}, 1
    from (
      select i, ts, r_model, r_size, r_workflow, r_favorite, ${modelCase} as model,
        ${pick(ADJECTIVES)} || ' ' || ${pick(SUBJECTS)} || ' ' || ${pick(PLACES)} || ', ' || ${pick(STYLES)} || ', ' || ${pick(LIGHTING)}
          || case when random() < 0.7 then ', ' || ${pick(DETAILS)} else '' end
          || case when random() < 0.4 then ', ' || ${pick(DETAILS)} else '' end
          || case when random() < 0.15 then ', ' || ${pick(DETAILS)} || ', ' || ${pick(DETAILS)} else '' end
          || case when i % 4999 = 0 then ', with an ' || ${RARE_WORD} else '' end as prompt
      from (
        select i, now() - interval '365 days' + (interval '365 days' / ${count}::int) * (i - 1 + random() * 0.9) as ts,
          random() as r_model, random() as r_size, random() as r_workflow, random() as r_favorite
        from generate_series(1, ${count}::int) as i
      ) slots
    ) rows`.execute(db);
  await sql`
    insert into images (id, generation_id, user_id, width, height, format, bytes, original_key, thumbnail_key, preview_key, created_at)
    select ${uuidv7At(sql`g.completed_at`)}, g.id, g.user_id, g.width, g.height, g.output_format, 250000 + floor(random() * 900000)::int,
      'images/' || g.id || '/original', 'images/' || g.id || '/thumbnail', 'images/' || g.id || '/preview', g.completed_at
    from generations g where g.user_id = ${userId}`.execute(db);
}

// ---------------------------------------------------------------------------------------------------

export interface SeedRequest {
  userId: string;
  generations: number;
  otherUsers: number;
  perOtherUser: number;
  collectionShare: number;
  favoriteShare: number;
}

export interface SeedResult {
  ms: { generations: number; others: number; collection: number; vacuumAnalyze: number };
  collectionId: string;
  rows: { generations: number; images: number; userGenerations: number; collectionItems: number; favorites: number };
  tableMb: { generations: number; images: number; promptTsvIndex: number };
}

export interface Scenario {
  name: string;
  /** The query string, without the cursor. `{collection}` stands for the seeded collection's id. */
  query: Record<string, string>;
  /** Rows to skip for the deep page (keyset cursor = the id of the row just before it); 0: first page. */
  depth: number;
}

export interface ExplainedQuery {
  label: string;
  sql: string;
  parameters: readonly unknown[];
  plan: string;
  executionMs: number | null;
}

export interface PreparedScenario extends Scenario {
  matches: number;
  /** The effective depth (capped by the matches) and the cursor that starts there, as the server makes them. */
  offset: number;
  cursor: string | null;
}

/** The history filters of a query, resolved the way GenerationService.list resolves them. */
async function filtersOf(repository: ReturnType<typeof createGenerationsRepository>, query: ListGenerationsQuery): Promise<HistoryFilters> {
  return {
    tsQuery: query.q ? await repository.toPrefixTsQuery(query.q) : null,
    model: query.model,
    workflow: query.workflow,
    status: query.status,
    from: query.from ? boundStart(query.from) : undefined,
    to: query.to ? boundEnd(query.to) : undefined,
    favorite: query.favorite,
    collectionId: query.collection,
  };
}

/**
 * Captures the SQL a repository method sends (and still runs it). Kysely also hands subqueries built from the
 * same instance to transformQuery, so only queries that come back through transformResult (executed) count.
 */
function capturing(db: Kysely<DB>) {
  const compiled = new Map<unknown, CompiledQuery>();
  const captured: CompiledQuery[] = [];
  const plugin: KyselyPlugin = {
    transformQuery: (args) => {
      compiled.set(args.queryId, db.getExecutor().compileQuery(args.node as RootOperationNode, args.queryId));
      return args.node;
    },
    transformResult: async (args) => {
      const query = compiled.get(args.queryId);
      if (query) captured.push(query);
      return args.result;
    },
  };
  return { db: db.withPlugin(plugin), captured };
}

const encodeCursor = (id: string) => Buffer.from(id).toString('base64url');

/** A name for one of `list`'s queries, from the table it reads first. */
function labelOf(text: string): string {
  if (/to_tsvector/.test(text)) return 'search words → tsquery';
  const table = /\bfrom "?(\w+)"?/.exec(text)?.[1];
  switch (table) {
    case 'collections':
      return 'collection check';
    case 'generations':
      return /^select "id" from/.test(text) ? 'history query (search probe)' : 'history query (search)';
    case 'images':
      return 'images of the page';
    case 'generation_references':
      return 'references of the page';
    case 'collection_items':
      return 'collections of the page';
    default:
      return table ?? 'query';
  }
}

export function atelierChildHandlers(server: Atelier): ChildHandlers {
  const { container } = server;
  const db = container.database.db;
  const repository = createGenerationsRepository(db);
  let collectionId = '';
  const parse = (query: Record<string, string>) => listGenerationsQuerySchema.parse({ ...query, ...(query.collection === '{collection}' ? { collection: collectionId } : {}) });

  return {
    seed: async (payload): Promise<SeedResult> => {
      const req = payload as unknown as SeedRequest;
      const t0 = performance.now();
      await seedGenerations(db, req.userId, req.generations, req.favoriteShare);
      const t1 = performance.now();
      for (let u = 1; u <= req.otherUsers; u++) {
        const other = `bench-other-${u}`;
        await sql`insert into users (id, name, email, email_verified) values (${other}, ${`Other ${u}`}, ${`other-${u}-${Date.now()}@example.com`}, true)`.execute(db);
        await seedGenerations(db, other, req.perOtherUser, req.favoriteShare);
      }
      const t2 = performance.now();
      collectionId = newId();
      await sql`insert into collections (id, user_id, name) values (${collectionId}, ${req.userId}, 'Bench board')`.execute(db);
      await sql`insert into collection_items (collection_id, generation_id, added_at)
        select ${collectionId}, id, created_at + interval '1 day' from generations where user_id = ${req.userId} and random() < ${req.collectionShare}`.execute(db);
      const t3 = performance.now();
      // As after autovacuum has caught up: statistics for the planner, the visibility map for index-only scans.
      for (const table of ['generations', 'images', 'collection_items', 'collections', 'users']) await sql`vacuum analyze ${sql.table(table)}`.execute(db);
      const t4 = performance.now();
      const count = async (q: ReturnType<typeof sql>) => Number((await sql<{ n: number }>`select count(*)::int as n ${q}`.execute(db)).rows[0]!.n);
      const mb = async (relation: string) => Math.round((Number((await sql<{ b: string }>`select pg_total_relation_size(${relation}::regclass)::text as b`.execute(db)).rows[0]!.b) / 1024 / 1024) * 10) / 10;
      return {
        ms: { generations: Math.round(t1 - t0), others: Math.round(t2 - t1), collection: Math.round(t3 - t2), vacuumAnalyze: Math.round(t4 - t3) },
        collectionId,
        rows: {
          generations: await count(sql`from generations`),
          images: await count(sql`from images`),
          userGenerations: await count(sql`from generations where user_id = ${req.userId}`),
          collectionItems: await count(sql`from collection_items where collection_id = ${collectionId}`),
          favorites: await count(sql`from generations where user_id = ${req.userId} and favorite`),
        },
        tableMb: { generations: await mb('generations'), images: await mb('images'), promptTsvIndex: await mb('generations_prompt_tsv_idx') },
      };
    },

    prepare: async ({ userId, scenarios }): Promise<PreparedScenario[]> => {
      const out: PreparedScenario[] = [];
      for (const s of scenarios as Scenario[]) {
        const query = parse(s.query);
        const f = await filtersOf(repository, query);
        // The filtered ids, newest first, as search() selects them; only ids, so counting 100 000 rows stays cheap.
        let q = db.selectFrom('generations').select('id').where('user_id', '=', String(userId));
        if (f.tsQuery) q = q.where(sql<boolean>`prompt_tsv @@ to_tsquery('simple', ${f.tsQuery})`);
        if (f.model) q = q.where('model_id', '=', f.model);
        if (f.workflow) q = q.where('workflow', '=', f.workflow);
        if (f.status) q = q.where('status', '=', f.status);
        if (f.from) q = q.where('created_at', '>=', f.from);
        if (f.to) q = q.where('created_at', '<', f.to);
        if (f.favorite !== undefined) q = q.where('favorite', '=', f.favorite);
        if (f.collectionId) q = q.where('id', 'in', db.selectFrom('collection_items').select('generation_id').where('collection_id', '=', f.collectionId));
        const ids = (await q.orderBy('id', 'desc').execute()).map((r) => r.id);
        // Deep pages start a whole number of pages in; capped at 80 % of the matches when there are fewer.
        const limit = query.limit;
        const offset = s.depth === 0 ? 0 : Math.max(limit, Math.min(s.depth, Math.floor((ids.length * 0.8) / limit) * limit));
        out.push({ ...s, query: { ...s.query, ...(s.query.collection ? { collection: collectionId } : {}) }, matches: ids.length, offset, cursor: offset > 0 && ids[offset - 1] ? encodeCursor(ids[offset - 1]!) : null });
      }
      return out;
    },

    direct: async ({ userId, query }) => {
      const parsed = parse(query as Record<string, string>);
      const t0 = performance.now();
      const page = await container.generations.list(String(userId), parsed);
      return { ms: performance.now() - t0, items: page.items.length };
    },

    /**
     * EXPLAIN (ANALYZE, BUFFERS) of every query GenerationService.list makes for this request, in its order.
     * A second GenerationService, wired like the container's but over a Kysely that records the SQL it sends,
     * runs the request once; each recorded query is then explained. So this follows whatever `list` does today.
     */
    explain: async ({ userId, query }): Promise<ExplainedQuery[]> => {
      const parsed = parse(query as Record<string, string>);
      const spy = capturing(db);
      const mediaRepository = createMediaRepository(spy.db);
      const service = createGenerationService({
        db: spy.db,
        repository: createGenerationsRepository(spy.db),
        catalogue: container.catalogue,
        media: { listForGenerations: (ids) => mediaRepository.listForGenerations(ids), schedulePurgeForGeneration: container.media.schedulePurgeForGeneration },
        references: createReferencesRepository(spy.db),
        collections: createCollectionsRepository(spy.db),
        jobs: container.jobs,
        // `list` never admits anything: the container's admission pieces are passed through unused.
        credits: container.credits,
        limitsFor: (ex, id) => container.billing.limitsFor(ex, id),
        apiKeyMaxConcurrent: container.config.credits.apiKeyMaxConcurrent,
        holdTtlSeconds: () => container.config.jobs.generationDeadlineSeconds,
      });
      await service.list(String(userId), parsed);
      const queries: ExplainedQuery[] = [];
      for (const compiled of spy.captured) {
        const plan = (await db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain (analyze, buffers) ${compiled.sql}`, [...compiled.parameters]))).rows.map((r) => r['QUERY PLAN']).join('\n');
        const execution = /Execution Time: ([\d.]+) ms/.exec(plan);
        queries.push({ label: labelOf(compiled.sql), sql: compiled.sql, parameters: compiled.parameters, plan, executionMs: execution ? Number(execution[1]) : null });
      }
      return queries;
    },
  };
}
