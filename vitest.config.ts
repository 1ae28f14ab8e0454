import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Test projects:
 * - unit:     `*.test.ts` — pure logic, adapters against fake servers; no database.
 * - pglite:   `*.db.test.ts` against embedded PGlite.
 * - postgres: the same `*.db.test.ts` files against the PostgreSQL server (TEST_DATABASE_URL, default
 *             postgres://postgres@127.0.0.1:5432/test); each run creates and drops its own databases.
 * - e2e:      `e2e/*.e2e.ts` — the built studio in Debian's Chromium.
 */
const webSrc = fileURLToPath(new URL('./apps/web/src', import.meta.url));
const dbTests = ['apps/**/*.db.test.ts', 'packages/**/*.db.test.ts'];
export default defineConfig({
  test: {
    projects: [
      {
        // The studio's own `#/` imports (its Vite alias), for its logic tests; the server's are `#src/`, `#test/`.
        resolve: { alias: [{ find: /^#\/(.*)$/, replacement: `${webSrc}/$1` }] },
        test: { name: 'unit', include: ['apps/**/*.test.ts', 'packages/**/*.test.ts'], exclude: [...dbTests, '**/node_modules/**'], testTimeout: 20_000 },
      },
      { test: { name: 'pglite', include: dbTests, env: { ATELIER_TEST_DB: 'pglite' }, testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: 'postgres', include: dbTests, env: { ATELIER_TEST_DB: 'postgres' }, testTimeout: 60_000, hookTimeout: 60_000 } },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          // expect.poll waits for the page to show something; vitest's 1 s default is too short while the
          // database projects load both cores (CI runs them side by side). Not a speed target: those are in bench/.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
