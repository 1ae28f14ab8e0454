import fs from 'node:fs';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStudio, type Atelier, type StudioSession } from './support.ts';

/**
 * The golden path in a real browser: sign up → generate with the offline engine → the image appears
 * without a reload (pushed over SSE) → open it → download → delete.
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

it('signs up, generates, sees the image arrive live, downloads and deletes it', async () => {
  await page.goto(`${atelier.url}/`);
  await page.waitForURL(/\/sign-in/);
  await page.getByRole('link', { name: /create an account/i }).click();
  await page.getByLabel('Name').fill('Grace');
  await page.getByLabel('Email').fill('grace@example.com');
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByLabel(/I am at least \d+ years old/).check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${atelier.url}/`);
  // Before sign-up the studio asked /api/me and got the expected 401; from here on, no errors at all.
  consoleErrors.length = 0;

  // Count document loads: the image must arrive without one.
  let loads = 0;
  page.on('load', () => loads++);
  // And it must be pushed, not polled: record every read of generations once Generate is pressed.
  await page.getByRole('heading', { name: 'Your studio is empty' }).waitFor();
  const reads: string[] = [];
  let pressed = false;
  page.on('request', (r) => {
    if (pressed && r.method() === 'GET' && /\/api\/generations/.test(r.url())) reads.push(r.url());
  });

  await page.getByLabel('Prompt').fill('A gallery poster that says "Atelier" in #2255CC and #FFCC00');
  pressed = true;
  await page.getByRole('button', { name: /^Generate/ }).click();

  const grid = page.getByRole('list', { name: /your images/i });
  const thumbnail = grid.locator('img[src*="/thumbnail"]').first();
  await thumbnail.waitFor({ state: 'visible', timeout: 30_000 });
  expect(loads).toBe(0);
  expect(reads).toEqual([]);
  expect(await thumbnail.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);

  await grid.getByRole('link').first().click();
  await page.waitForURL(/\/images\//);
  const dialog = page.getByRole('dialog');
  await expect.poll(() => dialog.getByText('Offline preview').first().isVisible()).toBe(true);

  const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('link', { name: /^Download$/ }).click()]);
  const file = await download.path();
  const meta = await sharp(fs.readFileSync(file)).metadata();
  expect(meta.format).toBe('png');
  expect([meta.width, meta.height]).toEqual([1024, 1024]);

  // Everything up to here ran without a console error; after the delete, the studio may still ask for
  // the deleted image once (a 404), which is expected.
  expect(consoleErrors).toEqual([]);
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('alertdialog').or(page.getByRole('dialog', { name: /delete/i })).getByRole('button', { name: 'Delete' }).click();
  await page.waitForURL(`${atelier.url}/`);
  await expect.poll(() => grid.locator('img[src*="/thumbnail"]').count(), { timeout: 10_000 }).toBe(0);

  // The deleted image is gone from the server too.
  const res = await page.request.get(`${atelier.url}/api/generations`);
  expect((await res.json()).data).toEqual([]);
  expect(consoleErrors.filter((e) => !e.includes('status of 404'))).toEqual([]);
});
