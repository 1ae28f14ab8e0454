import sharp from 'sharp';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStudio, signUpInStudio, type Atelier, type StudioSession } from './support.ts';

/**
 * The reference library in a real browser: two uploaded references saved as a named kit, the tray
 * cleared and the page reloaded, the kit applied from the library (both back, in order), a generation
 * made with them on the offline engine, a generated image picked from the library, and the kit deleted.
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

const REFERENCES = [
  { name: 'mara-face.png', width: 300, height: 200, colour: '#c2410c' },
  { name: 'mara-outfit.png', width: 200, height: 300, colour: '#0f766e' },
];

const generationPost = (): Promise<Request> => page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/generations');

it('saves two references as a kit, applies it after a reload, generates with them, picks a generated image and deletes the kit', async () => {
  await signUpInStudio(session, { name: 'Ada', email: 'ada@example.com' });

  // Upload answers, by image size → file name.
  const uploaded = new Map<string, string>();
  page.on('response', async (res) => {
    if (res.request().method() !== 'POST' || new URL(res.url()).pathname !== '/api/uploads' || res.status() !== 201) return;
    const body = (await res.json()) as { id: string; width: number; height: number };
    const file = REFERENCES.find((r) => r.width === body.width && r.height === body.height);
    if (file) uploaded.set(file.name, body.id);
  });

  // 1. Two references dropped on the panel, uploaded in order.
  const files = await Promise.all(
    REFERENCES.map(async (r) => ({ name: r.name, base64: (await sharp({ create: { width: r.width, height: r.height, channels: 3, background: r.colour } }).png().toBuffer()).toString('base64') })),
  );
  const dataTransfer = await page.evaluateHandle((list) => {
    const transfer = new DataTransfer();
    for (const f of list) transfer.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: 'image/png' }));
    return transfer;
  }, files);
  const panel = page.getByRole('form', { name: 'Generate an image' });
  await panel.dispatchEvent('dragenter', { dataTransfer });
  await panel.dispatchEvent('drop', { dataTransfer });

  const tray = page.getByRole('list', { name: 'Reference images, in order' });
  const labels = tray.getByRole('button', { name: /^image \d/ });
  const trayThumbs = () => tray.locator('.ref-tile__thumb img').evaluateAll((imgs) => imgs.map((i) => new URL((i as HTMLImageElement).src).pathname));
  await expect.poll(() => labels.allTextContents()).toEqual(['image 1', 'image 2']);
  await expect.poll(() => tray.getByRole('progressbar').count(), { timeout: 15_000 }).toBe(0);
  await expect.poll(() => uploaded.size).toBe(2);
  const [face, outfit] = [uploaded.get('mara-face.png')!, uploaded.get('mara-outfit.png')!];

  // 2. Save the tray as a kit, from the tray's own entry point.
  await page.getByRole('button', { name: 'Save as kit…' }).click();
  const library = page.getByRole('dialog', { name: 'Reference library' });
  await expect.poll(() => library.getByRole('tab', { name: 'Kits' }).getAttribute('aria-selected')).toBe('true');
  const kitName = library.getByLabel('Save the tray as a kit');
  await expect.poll(() => kitName.evaluate((el) => el === document.activeElement)).toBe(true);
  await expect.poll(() => library.getByText('Saves the 2 references in the tray, in order.').isVisible()).toBe(true);
  await kitName.fill('Mara');
  await library.getByRole('button', { name: 'Save kit' }).click();
  const kits = library.getByRole('list', { name: 'Your kits' });
  await expect.poll(() => kits.getByRole('listitem').allTextContents()).toEqual([expect.stringMatching(/^Mara2 references · updated/)]);
  // The same name again (in any case) is refused with the server's reason, next to the field.
  await kitName.fill('mara');
  await library.getByRole('button', { name: 'Save kit' }).click();
  await expect.poll(() => library.getByText('you already have a kit named “Mara”').isVisible()).toBe(true);
  await library.getByRole('button', { name: 'Close' }).click();
  await expect.poll(() => library.count()).toBe(0);

  // 3. Clear the tray and reload: the kit is on the server, the tray is empty.
  await tray.getByRole('button', { name: 'Remove image 2' }).click();
  await tray.getByRole('button', { name: 'Remove image 1' }).click();
  await page.reload();
  await page.getByRole('button', { name: 'Add reference images' }).waitFor();
  expect(await page.getByRole('list', { name: 'Reference images, in order' }).count()).toBe(0);

  // 4. Apply the kit from the library: both references come back, in the kit's order.
  await page.getByRole('button', { name: 'Library', exact: true }).click();
  await library.getByRole('tab', { name: 'Kits' }).click();
  await library.getByRole('button', { name: 'Apply Mara' }).click();
  await expect.poll(() => library.count()).toBe(0);
  await expect.poll(() => labels.allTextContents()).toEqual(['image 1', 'image 2']);
  expect(await trayThumbs()).toEqual([`/api/uploads/${face}/thumbnail`, `/api/uploads/${outfit}/thumbnail`]);
  await expect.poll(() => tray.locator('.ref-tile__thumb img').evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0))).toBe(true);

  // 5. Generate on the offline engine: the generation's references are those two, in order.
  await page.getByLabel('Prompt').fill('Mara from image 1 wearing the outfit in image 2');
  const [post] = await Promise.all([generationPost(), page.getByRole('button', { name: /^Generate/ }).click()]);
  expect(post.postDataJSON()).toMatchObject({ model: 'offline', references: [face, outfit] });
  const grid = page.getByRole('list', { name: /your images/i });
  await expect.poll(() => grid.locator('img[src*="/thumbnail"]').count(), { timeout: 30_000 }).toBe(1);
  const generationId = ((await (await post.response())!.json()) as { id: string }).id;
  const generation = (await (await page.request.get(`${atelier.url}/api/generations/${generationId}`)).json()) as { status: string; references: { id: string; kind: string }[]; images: { id: string }[] };
  expect(generation.status).toBe('succeeded');
  expect(generation.references.map((r) => [r.kind, r.id])).toEqual([
    ['upload', face],
    ['upload', outfit],
  ]);

  // 6. Pick the generated image from the library's "Generated" tab: it joins the tray as image 3.
  await page.getByRole('button', { name: 'Library', exact: true }).click();
  await library.getByRole('tab', { name: 'Generated' }).click();
  const generated = library.getByRole('list', { name: 'Your generated images' });
  await generated.getByRole('button', { name: /^Mara from image 1 wearing the outfit in image 2/ }).click();
  await expect.poll(() => library.getByText('1 picked').isVisible()).toBe(true);
  await library.getByRole('button', { name: 'Add to tray' }).click();
  await expect.poll(() => library.count()).toBe(0);
  await expect.poll(() => labels.allTextContents()).toEqual(['image 1', 'image 2', 'image 3']);
  expect((await trayThumbs())[2]).toBe(`/api/images/${generation.images[0]!.id}/thumbnail`);

  // Uploads already in the tray are marked, not offered twice.
  await page.getByRole('button', { name: 'Library', exact: true }).click();
  const uploadsList = library.getByRole('list', { name: 'Your uploads' });
  await expect.poll(() => uploadsList.getByRole('button', { name: /already in the tray$/ }).count()).toBe(2);

  // 7. Delete the kit (after confirming); its uploads stay.
  await library.getByRole('tab', { name: 'Kits' }).click();
  await library.getByRole('button', { name: 'Delete Mara' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete the kit “Mara”?' });
  await confirm.getByRole('button', { name: 'Delete kit' }).click();
  await expect.poll(() => library.getByText('No kits yet').isVisible()).toBe(true);
  expect(((await (await page.request.get(`${atelier.url}/api/kits`)).json()) as { data: unknown[] }).data).toEqual([]);
  await library.getByRole('tab', { name: 'Uploads' }).click();
  await expect.poll(() => uploadsList.getByRole('listitem').count()).toBe(2);

  // The refused duplicate name is the one expected error on the console (a 409 the form showed).
  expect(consoleErrors.filter((e) => !/409/.test(e))).toEqual([]);
});
