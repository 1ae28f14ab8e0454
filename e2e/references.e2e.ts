import sharp from 'sharp';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStudio, signUpInStudio, type Atelier, type StudioSession } from './support.ts';

/**
 * Reference-guided editing in a real browser: three images dropped on the generate panel are uploaded and
 * labelled image 1–3, a generation on the offline engine uses them (in that order) and shows them in its
 * detail; then the result is refined twice and the detail lists the three versions.
 */
let session: StudioSession;
let atelier: Atelier;
let page: Page;
let consoleErrors: string[];

beforeAll(async () => {
  session = await openStudio();
  ({ atelier, page, consoleErrors } = session);
});
afterAll(() => session?.close());

/** Three PNGs told apart by their size, so the upload answers can be matched to the files. */
const REFERENCES = [
  { name: 'red.png', width: 320, height: 200, colour: '#d33c45' },
  { name: 'green.png', width: 200, height: 320, colour: '#158a5c' },
  { name: 'blue.png', width: 256, height: 256, colour: '#2255cc' },
];

function generationPost(): Promise<Request> {
  return page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/generations');
}

it('drops three references, generates with them, refines twice and browses the versions', async () => {
  await signUpInStudio(session, { name: 'Ada', email: 'ada@example.com' });

  // Upload answers, by image size → file name.
  const uploaded = new Map<string, string>();
  page.on('response', async (res) => {
    if (res.request().method() !== 'POST' || new URL(res.url()).pathname !== '/api/uploads' || res.status() !== 201) return;
    const body = (await res.json()) as { id: string; width: number; height: number };
    const file = REFERENCES.find((r) => r.width === body.width && r.height === body.height);
    if (file) uploaded.set(file.name, body.id);
  });

  const files = await Promise.all(
    REFERENCES.map(async (r) => ({
      name: r.name,
      base64: (await sharp({ create: { width: r.width, height: r.height, channels: 3, background: r.colour } }).png().toBuffer()).toString('base64'),
    })),
  );
  // What the browser hands over when files from the desktop are dropped.
  const dataTransfer = await page.evaluateHandle((list) => {
    const transfer = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      transfer.items.add(new File([bytes], f.name, { type: 'image/png' }));
    }
    return transfer;
  }, files);
  const panel = page.getByRole('form', { name: 'Generate an image' });
  await panel.dispatchEvent('dragenter', { dataTransfer });
  await panel.dispatchEvent('drop', { dataTransfer });

  const tray = page.getByRole('list', { name: 'Reference images, in order' });
  const labels = tray.getByRole('button', { name: /^image \d/ });
  await expect.poll(() => labels.allTextContents()).toEqual(['image 1', 'image 2', 'image 3']);
  // Every upload finished: no progress bar left, each label names its image without a state.
  await expect.poll(() => tray.getByRole('progressbar').count(), { timeout: 15_000 }).toBe(0);
  await expect.poll(() => labels.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')))).toEqual(['image 1', 'image 2', 'image 3']);
  await expect.poll(() => panel.getByText('3 / 10').isVisible()).toBe(true);
  expect([...uploaded.keys()].sort()).toEqual(['blue.png', 'green.png', 'red.png']);

  // The label chips write the names into the prompt at the cursor.
  const prompt = page.getByLabel('Prompt');
  await prompt.fill('A triptych: left');
  await labels.nth(0).click();
  await prompt.press('End');
  await prompt.pressSequentially(', middle');
  await labels.nth(1).click();
  await prompt.press('End');
  await prompt.pressSequentially(', right');
  await labels.nth(2).click();
  await expect.poll(() => prompt.inputValue()).toBe('A triptych: left image 1, middle image 2, right image 3');

  const grid = page.getByRole('list', { name: /your images/i });
  const thumbnails = grid.locator('img[src*="/thumbnail"]');
  let loads = 0;
  page.on('load', () => loads++);

  const [first] = await Promise.all([generationPost(), page.getByRole('button', { name: /^Generate/ }).click()]);
  expect(first.postDataJSON()).toMatchObject({
    model: 'offline',
    references: [uploaded.get('red.png'), uploaded.get('green.png'), uploaded.get('blue.png')],
  });
  expect(first.postDataJSON()).not.toHaveProperty('parent');

  // The result arrives live (pushed over SSE), without a reload.
  await expect.poll(() => thumbnails.count(), { timeout: 30_000 }).toBe(1);
  expect(loads).toBe(0);

  await grid.getByRole('link').first().click();
  await page.waitForURL(/\/images\//);
  const firstId = page.url().split('/images/')[1]!;
  const dialog = page.getByRole('dialog');
  const refs = dialog.getByRole('region', { name: 'Reference images' }).getByRole('img');
  await expect.poll(() => refs.count()).toBe(3);
  expect(await refs.evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt')))).toEqual(['image 1, uploaded', 'image 2, uploaded', 'image 3, uploaded']);
  await expect.poll(() => refs.evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0))).toBe(true);

  // Refine 1, from the detail: the image becomes reference 1 and the generation the parent.
  await dialog.getByRole('button', { name: 'Refine' }).click();
  await page.waitForURL(`${atelier.url}/`);
  await expect.poll(() => panel.getByText('Refining').isVisible()).toBe(true);
  await expect.poll(() => labels.allTextContents()).toEqual(['image 1']);
  await expect.poll(() => prompt.evaluate((el) => el === document.activeElement)).toBe(true);
  expect(await prompt.inputValue()).toBe('A triptych: left image 1, middle image 2, right image 3');
  await prompt.fill('Warmer light on image 1');
  const [second] = await Promise.all([generationPost(), page.getByRole('button', { name: /^Generate/ }).click()]);
  const firstImageId = await latestImageId(firstId);
  expect(second.postDataJSON()).toMatchObject({ references: [firstImageId], parent: firstId });
  await expect.poll(() => thumbnails.count(), { timeout: 30_000 }).toBe(2);

  // Refine 2, from the card of the newest image (its hover actions).
  const newest = grid.getByRole('listitem').first();
  const secondId = (await newest.getByRole('link', { name: /^Done:/ }).getAttribute('href'))!.split('/images/')[1]!;
  await newest.hover();
  await newest.getByRole('button', { name: /^Refine/ }).click();
  await expect.poll(() => panel.getByRole('link', { name: /Warmer light on image 1/ }).isVisible()).toBe(true); // the "Refining" chip
  await expect.poll(() => prompt.evaluate((el) => el === document.activeElement)).toBe(true);
  expect(await prompt.inputValue()).toBe('Warmer light on image 1');
  await prompt.fill('Add a soft vignette to image 1');
  const [third] = await Promise.all([generationPost(), page.getByRole('button', { name: /^Generate/ }).click()]);
  expect(third.postDataJSON()).toMatchObject({ references: [await latestImageId(secondId)], parent: secondId });
  await expect.poll(() => thumbnails.count(), { timeout: 30_000 }).toBe(3);

  // The newest version's detail lists all three, oldest first, itself highlighted.
  await grid.getByRole('link').first().click();
  await page.waitForURL(/\/images\//);
  const thirdId = page.url().split('/images/')[1]!;
  const versions = dialog.getByRole('region', { name: /^Versions/ });
  const rows = versions.getByRole('listitem');
  await expect.poll(() => rows.count()).toBe(3);
  expect(await rows.allTextContents()).toEqual([
    expect.stringContaining('v1'),
    expect.stringContaining('v2'),
    expect.stringContaining('v3'),
  ]);
  expect(await rows.nth(2).locator('[aria-current="true"]').count()).toBe(1);
  expect(await dialog.getByRole('region', { name: 'Reference images' }).getByRole('img').count()).toBe(1);

  // Clicking a version opens it in place.
  await rows.nth(0).getByRole('button').click();
  await page.waitForURL(`${atelier.url}/images/${firstId}`);
  await expect.poll(() => rows.nth(0).locator('[aria-current="true"]').count()).toBe(1);
  await expect.poll(() => dialog.getByRole('region', { name: 'Reference images' }).getByRole('img').count()).toBe(3);
  expect(thirdId).not.toBe(firstId);

  expect(consoleErrors).toEqual([]);
});

/** The first image of a generation, as the server reports it. */
async function latestImageId(generationId: string): Promise<string> {
  const res = await page.request.get(`${atelier.url}/api/generations/${generationId}`);
  const body = (await res.json()) as { images: { id: string }[] };
  return body.images[0]!.id;
}
