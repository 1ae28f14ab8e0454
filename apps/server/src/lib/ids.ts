import { v7 } from 'uuid';

/** Time-ordered UUIDs (v7): unguessable enough for ids, and friendly to B-tree indexes. */
export const newId = (): string => v7();
