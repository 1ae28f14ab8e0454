import fs from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStudio, signUpInStudio, type Atelier, type StudioSession } from './support.ts';

/**
 * The history at scale in a real browser: generations seeded through the API arrive live; a search is
 * kept in the URL (reload and Back); a favourite, a collection filled by bulk selection and downloaded as
 * a ZIP, a bulk delete; then a refinement compared with its parent through the slider, varied and re-run.
 */
let session: StudioSession;
let atelier: Atelier;
let page: Page;
let consoleErrors: string[];

beforeAll(async () => {
  session = await openStudio({ context: { acceptDownloads: true } });
  ({ atelier, page, consoleErrors } = session);
});
afterAll(() => session?.close());

interface ApiGeneration {
  id: string;
  status: string;
  prompt: string;
  seed: number | null;
  parent_id: string | null;
  images: { id: string }[];
}

/** Makes generations the way a script would: POST /api/generations with the studio's session cookie. */
async function seed(prompt: string, extra: Record<string, unknown> = {}): Promise<{ id: string; batch: string[] }> {
  const res = await page.request.post(`${atelier.url}/api/generations`, { data: { model: 'offline', prompt, ...extra } });
  expect(res.status()).toBe(202);
  return (await res.json()) as { id: string; batch: string[] };
}

async function listAll(query = ''): Promise<ApiGeneration[]> {
  const res = await page.request.get(`${atelier.url}/api/generations?limit=100${query}`);
  expect(res.ok()).toBe(true);
  return ((await res.json()) as { data: ApiGeneration[] }).data;
}

async function allSucceeded(count: number): Promise<boolean> {
  const all = await listAll();
  return all.length === count && all.every((g) => g.status === 'succeeded');
}

/** The entries of a ZIP (read from its central directory) and the bytes of one of them. */
function readZip(zip: Buffer): { names: string[]; read: (name: string) => Buffer } {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  expect(eocd).toBeGreaterThan(-1);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries = new Map<string, { method: number; size: number; offset: number }>();
  for (let i = 0; i < count; i++) {
    expect(zip.readUInt32LE(at)).toBe(0x02014b50);
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const offset = zip.readUInt32LE(at + 42);
    entries.set(zip.subarray(at + 46, at + 46 + nameLength).toString('utf8'), { method, size, offset });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return {
    names: [...entries.keys()],
    read(name) {
      const e = entries.get(name)!;
      const start = e.offset + 30 + zip.readUInt16LE(e.offset + 26) + zip.readUInt16LE(e.offset + 28);
      const data = zip.subarray(start, start + e.size);
      return e.method === 8 ? inflateRawSync(data) : data;
    },
  };
}

it('searches, favourites, collects, downloads and deletes in bulk, compares, varies and re-runs', async () => {
  await signUpInStudio(session, { name: 'Hedy', email: 'hedy@example.com' });

  // Six generations, one request making two; they show up live in the open studio.
  const batch = await seed('red fox in snow', { count: 2 });
  expect(batch.batch).toHaveLength(2);
  for (const prompt of ['blue whale', 'fox den at dusk', 'a lighthouse in fog', 'arctic fox portrait']) await seed(prompt);
  await expect.poll(() => allSucceeded(6), { timeout: 60_000, interval: 500 }).toBe(true);
  const grid = page.getByRole('list', { name: /your images/i });
  const cards = grid.getByRole('listitem');
  const thumbnails = grid.locator('img[src*="/thumbnail"]');
  await expect.poll(() => thumbnails.count(), { timeout: 30_000 }).toBe(6);
  // Each card is a link named after its status and prompt (its download button is a link too).
  const cardLinks = grid.getByRole('link', { name: /^Done: / });
  const labels = () => cardLinks.evaluateAll((links) => links.map((l) => l.getAttribute('aria-label') ?? ''));

  // "/" jumps to the search; typing narrows the grid and writes the URL.
  const search = page.getByRole('searchbox', { name: 'Search your images' });
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('/');
  await expect.poll(() => search.evaluate((el) => el === document.activeElement)).toBe(true);
  await page.keyboard.type('fox');
  await page.waitForURL(/[?&]q=fox(&|$)/);
  await expect.poll(async () => (await labels()).length).toBe(4);
  expect((await labels()).every((l) => /fox/i.test(l))).toBe(true);

  // A reload keeps the search; Back undoes it and Forward brings it back.
  await page.reload();
  await expect.poll(() => search.inputValue()).toBe('fox');
  await expect.poll(async () => (await labels()).length).toBe(4);
  await page.goBack();
  await expect.poll(() => new URL(page.url()).search).toBe('');
  await expect.poll(async () => (await labels()).length).toBe(6);
  await expect.poll(() => search.inputValue()).toBe('');
  await page.goForward();
  await expect.poll(() => search.inputValue()).toBe('fox');
  await expect.poll(async () => (await labels()).length).toBe(4);

  // Esc clears the search; no results explains itself and offers a way out.
  await search.click();
  await page.keyboard.press('Escape');
  await expect.poll(() => new URL(page.url()).searchParams.has('q')).toBe(false);
  await expect.poll(async () => (await labels()).length).toBe(6);
  await search.fill('zebra');
  await page.getByRole('heading', { name: 'No results for “zebra”' }).waitFor();
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect.poll(async () => (await labels()).length).toBe(6);
  expect(await search.inputValue()).toBe('');

  // Favourite the whale from its card; the Favourites filter shows only it.
  const whale = cards.filter({ has: page.getByRole('link', { name: 'Done: blue whale' }) });
  await whale.hover();
  const [patch] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PATCH' && /\/api\/generations\//.test(r.url())),
    whale.getByRole('button', { name: 'Favourite' }).click(),
  ]);
  expect(patch.status()).toBe(200);
  await expect.poll(() => whale.getByRole('button', { name: 'Favourite' }).getAttribute('aria-pressed')).toBe('true');
  await page.getByRole('button', { name: 'Favourites' }).click();
  await page.waitForURL(/favorite=true/);
  await expect.poll(labels).toEqual(['Done: blue whale']);
  await page.getByRole('button', { name: 'Favourites' }).click();
  await expect.poll(async () => (await labels()).length).toBe(6);

  // A new collection, from the collections menu.
  await page.getByRole('button', { name: 'Collections' }).click();
  const collectionsMenu = page.getByRole('dialog', { name: 'Collections' });
  await collectionsMenu.getByLabel('New collection name').fill('Foxes');
  await collectionsMenu.getByRole('button', { name: 'Create' }).click();
  await expect.poll(() => collectionsMenu.getByRole('button', { name: /^Foxes/ }).isVisible()).toBe(true);
  await page.keyboard.press('Escape');

  // Select mode: a click selects, Shift-click selects the range, a second click deselects. The two
  // "red fox in snow" (the last two fox results) are kept.
  await search.fill('fox');
  await page.waitForURL(/[?&]q=fox/);
  await expect.poll(async () => (await labels()).length).toBe(4);
  const foxIds = (await cardLinks.evaluateAll((links) => links.map((l) => l.getAttribute('href')!))).map((h) => h.split('/images/')[1]!.split('?')[0]!);
  await page.getByRole('button', { name: 'Select', exact: true }).click();
  const bar = page.getByRole('toolbar', { name: 'Selected images' });
  await cards.nth(1).getByRole('link', { name: /^Done: / }).click();
  await cards.nth(3).getByRole('link', { name: /^Done: / }).click({ modifiers: ['Shift'] });
  await expect.poll(() => bar.textContent()).toContain('3 selected');
  await cards.nth(1).getByRole('link', { name: /^Done: / }).click();
  await expect.poll(() => bar.textContent()).toContain('2 selected');
  const kept = [foxIds[2]!, foxIds[3]!];
  expect(page.url()).not.toContain('/images/');

  const [bulkAdd] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/generations/bulk'),
    (async () => {
      await bar.getByRole('button', { name: 'Add to collection' }).click();
      await page.getByRole('dialog', { name: 'Add 2 images to a collection' }).getByRole('button', { name: /^Foxes/ }).click();
    })(),
  ]);
  expect(bulkAdd.postDataJSON()).toMatchObject({ action: 'add_to_collection', ids: kept });
  await expect.poll(() => bar.isVisible()).toBe(false); // done: select mode ends

  // Filter by the collection: only its two images, and its header.
  await page.getByRole('button', { name: 'Clear filter' }).click();
  await page.getByRole('button', { name: 'Collections' }).click();
  await page.getByRole('dialog', { name: 'Collections' }).getByRole('button', { name: /^Foxes/ }).click();
  await page.waitForURL(/collection=/);
  await expect.poll(async () => (await labels()).length).toBe(2);
  expect((await cardLinks.evaluateAll((links) => links.map((l) => l.getAttribute('href')!.split('/images/')[1]!.split('?')[0]!))).sort()).toEqual([...kept].sort());
  await expect.poll(() => page.getByRole('heading', { name: 'Foxes' }).isVisible()).toBe(true);
  expect(await page.getByText('2 images', { exact: true }).isVisible()).toBe(true);

  // Download the collection as a ZIP: both images and a manifest describing them.
  await page.getByRole('button', { name: 'Download ZIP' }).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: /Original formats/ }).click()]);
  expect(download.suggestedFilename()).toMatch(/Foxes.*\.zip$/);
  const zip = readZip(fs.readFileSync(await download.path()));
  expect(zip.names).toContain('manifest.json');
  expect(zip.names.filter((n) => n.endsWith('.png'))).toHaveLength(2);
  const manifest = JSON.parse(zip.read('manifest.json').toString('utf8')) as { collection: { name: string }; images: { generation_id: string; file: string }[] };
  expect(manifest.collection.name).toBe('Foxes');
  expect(manifest.images.map((i) => i.generation_id).sort()).toEqual([...kept].sort());

  // Bulk delete from the collection: everything selected goes, the collection stays, empty.
  await page.getByRole('button', { name: 'Select', exact: true }).click();
  await bar.getByRole('button', { name: 'Select all 2' }).click();
  await bar.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete 2 images?' });
  await confirm.getByRole('button', { name: 'Delete 2 images' }).click();
  await page.getByRole('heading', { name: '“Foxes” is empty' }).waitFor();
  await expect.poll(async () => (await listAll()).length).toBe(4);
  await page.getByRole('button', { name: 'Show all images' }).click();
  await expect.poll(async () => (await labels()).length).toBe(4);

  // A refinement of the arctic fox, made through the API, arrives; its detail compares it with its parent.
  const arctic = (await listAll('&q=arctic'))[0]!;
  const refined = await seed('arctic fox portrait, warmer light on image 1', { parent: arctic.id, references: [arctic.images[0]!.id] });
  await expect.poll(async () => (await listAll()).find((g) => g.id === refined.id)?.status, { timeout: 30_000 }).toBe('succeeded');
  await expect.poll(() => thumbnails.count(), { timeout: 30_000 }).toBe(5);
  await grid.getByRole('link', { name: /warmer light/ }).click();
  await page.waitForURL(new RegExp(`/images/${refined.id}`));
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Compare' }).click();
  const slider = dialog.getByRole('slider');
  await expect.poll(() => slider.getAttribute('aria-valuenow')).toBe('50');
  expect(await dialog.getByRole('combobox', { name: 'Compare with' }).inputValue()).toBe(arctic.id);
  await slider.focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowLeft');
  await expect.poll(() => slider.getAttribute('aria-valuenow')).toBe('40');
  await page.keyboard.press('Shift+ArrowRight');
  await expect.poll(() => slider.getAttribute('aria-valuenow')).toBe('50');
  await page.keyboard.press('End');
  await expect.poll(() => slider.getAttribute('aria-valuenow')).toBe('100');
  expect(page.url()).toContain(`/images/${refined.id}`); // the arrows moved the divider, not to another image
  // Dragging moves it too.
  const box = (await dialog.locator('.compare__frame').boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
  await page.mouse.up();
  await expect.poll(async () => Number(await slider.getAttribute('aria-valuenow'))).toBeGreaterThan(25);
  expect(Number(await slider.getAttribute('aria-valuenow'))).toBeLessThan(35);
  await dialog.getByRole('radio', { name: 'Side by side' }).check({ force: true });
  await expect.poll(() => dialog.locator('.compare--side img').count()).toBe(2);
  await dialog.getByRole('button', { name: 'Done' }).click();

  // Vary: a new seed, this generation as the parent; the child joins the version tree live.
  const versions = dialog.getByRole('region', { name: /^Versions/ });
  await expect.poll(() => versions.getByRole('listitem').count()).toBe(2);
  const refinedSeed = (await listAll()).find((g) => g.id === refined.id)!.seed;
  const [vary] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/generations'),
    dialog.getByRole('button', { name: 'Vary' }).click(),
  ]);
  expect(vary.postDataJSON()).toMatchObject({ model: 'offline', prompt: 'arctic fox portrait, warmer light on image 1', parent: refined.id, references: [arctic.images[0]!.id] });
  expect(vary.postDataJSON().seed).not.toBe(refinedSeed);
  await expect.poll(() => versions.getByRole('listitem').count()).toBe(3);
  await expect.poll(() => versions.getByRole('listitem').nth(2).locator('img').count(), { timeout: 30_000 }).toBe(1);
  expect(await versions.getByRole('listitem').allTextContents()).toEqual([expect.stringContaining('v1'), expect.stringContaining('v2'), expect.stringContaining('v3')]);

  // Re-run: the same request and seed, no parent; the dialog follows the new image.
  const [rerun] = await Promise.all([
    page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/generations'),
    dialog.getByRole('button', { name: 'Re-run (same seed)' }).click(),
  ]);
  expect(rerun.postDataJSON()).toMatchObject({ prompt: 'arctic fox portrait, warmer light on image 1', seed: refinedSeed, references: [arctic.images[0]!.id] });
  expect(rerun.postDataJSON()).not.toHaveProperty('parent');
  await expect.poll(() => new URL(page.url()).pathname).not.toBe(`/images/${refined.id}`);
  await expect.poll(() => dialog.getByRole('img', { name: /warmer light/ }).count(), { timeout: 30_000 }).toBe(1);
  await expect.poll(async () => (await listAll()).length).toBe(7);

  // A filtered list stays live: a generation that matches the search arrives without a reload (even into
  // "no results"), one that does not match stays out.
  await page.keyboard.press('Escape');
  await page.waitForURL(`${atelier.url}/`);
  await search.fill('kits');
  await page.getByRole('heading', { name: 'No results for “kits”' }).waitFor();
  let loads = 0;
  page.on('load', () => loads++);
  await seed('whale shark');
  await seed('fox kits playing');
  await expect.poll(labels, { timeout: 30_000 }).toEqual(['Done: fox kits playing']);
  await expect.poll(async () => (await listAll()).every((g) => g.status === 'succeeded')).toBe(true);
  expect(await labels()).toEqual(['Done: fox kits playing']);
  expect(loads).toBe(0);

  // After the bulk delete, the studio may still ask for a deleted image once (a 404); nothing else failed.
  expect(consoleErrors.filter((e) => !e.includes('status of 404'))).toEqual([]);
});
