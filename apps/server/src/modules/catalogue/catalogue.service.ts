import fs from 'node:fs';
import type { Logger } from 'pino';
import { catalogueFileSchema, modelDefinitionSchema, type Engine, type ModelDefinition } from '@atelier/contracts';
import type { Database } from '#src/db/client.ts';
import { AppError, notFound } from '#src/lib/errors.ts';
import { createCatalogue, DEFAULT_CATALOGUE, overlay, type Catalogue } from './catalogue.ts';
import type { CatalogueRepository } from './catalogue.repository.ts';

/**
 * The live catalogue: built-in models, then CATALOGUE_FILE, then staff overrides from the database.
 * A staff edit on any node is announced with NOTIFY, and every process reloads its copy.
 */
export type CatalogueService = ReturnType<typeof createCatalogueService>;

export function loadCatalogueFile(file: string): ModelDefinition[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`CATALOGUE_FILE ${file} could not be read as JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = catalogueFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`CATALOGUE_FILE ${file} is not a valid catalogue:\n${lines.join('\n')}`);
  }
  return parsed.data.models;
}

export function createCatalogueService(deps: { repository: CatalogueRepository; database: Pick<Database, 'listen'>; configuredEngines: ReadonlySet<Engine>; file: ModelDefinition[] | null; logger: Logger }) {
  const { repository, logger } = deps;
  const catalogue: Catalogue = createCatalogue({ base: overlay(DEFAULT_CATALOGUE, deps.file ?? []), configuredEngines: deps.configuredEngines });
  let unlisten: (() => Promise<void>) | null = null;

  const reload = async () => {
    const rows = await repository.systemListOverrides();
    const overrides: ModelDefinition[] = [];
    for (const row of rows) {
      const parsed = modelDefinitionSchema.safeParse(row.definition);
      if (parsed.success) overrides.push(parsed.data);
      else logger.error({ modelId: row.model_id }, 'ignoring an invalid catalogue override');
    }
    catalogue.setOverrides(overrides);
  };

  return {
    catalogue,
    async start() {
      await reload();
      unlisten = await deps.database.listen('atelier_catalogue', () => void reload().catch((error: unknown) => logger.error({ err: error }, 'catalogue reload failed')));
    },
    async stop() {
      await unlisten?.();
    },
    /** Staff: every model definition, with whether it is available on this server. */
    definitions() {
      const available = new Set(catalogue.list().map((m) => m.id));
      return catalogue.definitions().map((definition) => ({ definition, available: available.has(definition.id) }));
    },
    /** Staff: adds or replaces a model (including its routes); takes effect on every node at once. */
    async put(staffUserId: string, modelId: string, definition: ModelDefinition): Promise<void> {
      if (definition.id !== modelId) throw new AppError('validation_failed', 'The model id in the body must match the URL', { fields: [{ path: 'id', message: `must be "${modelId}"` }] });
      await repository.upsert(modelId, definition, staffUserId);
      await reload();
      await repository.notifyChanged();
    },
    /** Staff: drops the override, back to the file or built-in definition (or gone, for a model only the override defined). */
    async revert(modelId: string): Promise<void> {
      if (!(await repository.remove(modelId))) throw notFound('Catalogue override');
      await reload();
      await repository.notifyChanged();
    },
  };
}
