import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { quoteCredits, type CreateGenerationResponse, type Generation, type Model } from '@atelier/contracts';
import { openStudio, signUpInStudio, type Atelier, type StudioSession } from './support.ts';

/**
 * The prompt builder in a real browser: a typography element and a palette colour bound to an object are
 * compiled into the prompt (exact text in quotes, hex plus name), the structured editor sends BFL's JSON
 * prompt after a bad hex is caught and fixed, and Images = 3 makes three generations with consecutive
 * seeds; the price on the Generate button is the catalogue's quote (a priced model is added to the
 * catalogue for that, served by the offline engine).
 */
let session: StudioSession;
let atelier: Atelier;
let page: Page;
let consoleErrors: string[];

const PRICED = { id: 'offline-priced', label: 'Offline, priced', price_credits: 2, price_per_reference_credits: 1 };

beforeAll(async () => {
  const catalogue = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-catalogue-')), 'catalogue.json');
  fs.writeFileSync(catalogue, JSON.stringify({ models: [{ ...PRICED, workflows: ['text-to-image', 'image-to-image'], max_reference_images: 4, routes: [{ engine: 'offline', engine_model: 'offline' }] }] }));
  session = await openStudio({ env: { CATALOGUE_FILE: catalogue } });
  ({ atelier, page, consoleErrors } = session);
});
afterAll(() => session?.close());

const HEADLINE = 'GRAND OPENING — 12.05';

function generationPost(): Promise<Request> {
  return page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/generations');
}

async function listGenerations(): Promise<Generation[]> {
  const res = await page.request.get(`${atelier.url}/api/generations`);
  expect(res.status()).toBe(200);
  return ((await res.json()) as { data: Generation[] }).data;
}

it('compiles typography and palette into the prompt, sends a structured JSON prompt, and makes three variations', async () => {
  await signUpInStudio(session, { name: 'Paula', email: 'paula@example.com' });

  const panel = page.getByRole('form', { name: 'Generate an image' });
  const generate = panel.getByRole('button', { name: /^Generate/ });
  const grid = page.getByRole('list', { name: /your images/i });
  const thumbnails = grid.locator('img[src*="/thumbnail"]');
  const preview = panel.getByLabel('Sent to the model', { exact: true });

  // The price next to Generate is the catalogue's quote for what would be sent: model, size and count.
  const models = ((await (await page.request.get(`${atelier.url}/api/models`)).json()) as { data: Model[] }).data;
  const priced = models.find((m) => m.id === PRICED.id)!;
  await page.getByLabel('Prompt', { exact: true }).fill('A flower shop window with a ceramic vase');
  // The offline preview model: 1 credit per started megapixel, so 1 at the default 1024 × 1024.
  await expect.poll(() => generate.textContent()).toMatch(/^Generate\s*·\s*1 credit$/);
  const picker = panel.getByRole('combobox', { name: /^Model/ });
  await picker.click();
  await page.getByRole('option', { name: /Offline, priced/ }).click();
  const one = quoteCredits(priced, { width: 1024, height: 1024, references: 0, count: 1 });
  expect(one.credits).toBe(2);
  await expect.poll(() => generate.textContent()).toMatch(new RegExp(`^Generate\\s*·\\s*${one.credits} credits`));
  await panel.getByRole('radiogroup', { name: 'Images' }).getByText('3', { exact: true }).click();
  const three = quoteCredits(priced, { width: 1024, height: 1024, references: 0, count: 3 });
  await expect.poll(() => generate.textContent()).toMatch(new RegExp(`^Generate 3\\s*·\\s*${three.credits} credits`));
  await generate.hover();
  const breakdown = panel.getByRole('tooltip');
  await expect.poll(() => breakdown.isVisible()).toBe(true);
  expect(await breakdown.textContent()).toContain(`× 3 images${three.credits}`);
  await panel.getByRole('radiogroup', { name: 'Images' }).getByText('1', { exact: true }).click();
  await picker.click();
  await page.getByRole('option', { name: /^Offline preview/ }).click();
  await expect.poll(() => generate.textContent()).toMatch(/^Generate\s*·\s*1 credit$/);

  // Typography: one headline, in a colour.
  const typography = panel.locator('details', { has: page.locator('summary', { hasText: 'Typography' }) });
  await typography.locator('summary').click();
  await typography.getByRole('button', { name: 'Add text' }).click();
  const text1 = typography.getByRole('group', { name: 'Text 1' });
  await expect.poll(() => text1.getByLabel('Exact text').evaluate((el) => el === document.activeElement)).toBe(true);
  await text1.getByLabel('Exact text').fill(HEADLINE);
  await text1.getByLabel('Size').selectOption('headline');
  await text1.getByLabel('Font style').fill('bold sans-serif');
  await text1.getByLabel('Placement').fill('top center');
  await text1.getByRole('button', { name: 'Add colour' }).click();
  await text1.getByLabel('Text colour (hex)').fill('#E11D48');

  // Palette: one colour bound to an object; a half-typed hex blocks Generate with the reason.
  const palette = panel.locator('details', { has: page.locator('summary', { hasText: 'Colour palette' }) });
  await palette.locator('summary').click();
  await palette.getByRole('button', { name: 'Add colour' }).click();
  const colour1 = palette.getByRole('group', { name: 'Colour 1' });
  await colour1.getByLabel('Colour (hex)', { exact: true }).fill('#02eb3');
  await expect.poll(() => generate.isDisabled()).toBe(true);
  await expect.poll(() => panel.getByText(/Colour 1: "#02eb3" is not a hex colour/).isVisible()).toBe(true);
  await colour1.getByLabel('Colour (hex)', { exact: true }).fill('#02eb3c');
  await colour1.getByLabel('Applies to').fill('the vase');
  await expect.poll(() => colour1.getByText('bright green').isVisible()).toBe(true);

  const expected =
    `The text "${HEADLINE}" appears as a large headline in bold sans-serif, at the top center, in color #e11d48 (bright red). ` +
    'A flower shop window with a ceramic vase. The vase in color #02eb3c (bright green).';
  await expect.poll(() => preview.textContent()).toBe(expected);

  let loads = 0;
  page.on('load', () => loads++);
  const [first] = await Promise.all([generationPost(), generate.click()]);
  expect(first.postDataJSON()).toMatchObject({ model: 'offline', prompt: expected });
  expect(first.postDataJSON()).not.toHaveProperty('count');
  await expect.poll(() => thumbnails.count(), { timeout: 30_000 }).toBe(1);
  expect(loads).toBe(0);

  // The stored prompt carries the exact text in quotes: in the API and in the detail view.
  const [stored] = await listGenerations();
  expect(stored!.prompt).toBe(expected);
  expect(stored!.prompt).toContain(`"${HEADLINE}"`);
  await grid.getByRole('link').first().click();
  await page.waitForURL(/\/images\//);
  const dialog = page.getByRole('dialog');
  await expect.poll(() => dialog.getByRole('region', { name: 'Prompt' }).textContent()).toContain(`"${HEADLINE}"`);
  await page.keyboard.press('Escape');
  await page.waitForURL(`${atelier.url}/`);

  // Structured: the text becomes the scene; the form and the JSON view edit the same prompt.
  await panel.getByRole('radiogroup', { name: 'Write as' }).getByText('Structured', { exact: true }).click();
  const scene = panel.getByLabel('Scene', { exact: true });
  await expect.poll(() => scene.inputValue()).toBe('A flower shop window with a ceramic vase');
  await scene.fill('A flower shop window at dawn');
  await panel.getByRole('button', { name: 'Add subject' }).click();
  const subject = panel.getByRole('group', { name: 'Subject 1' });
  await subject.getByLabel('Description').fill('a ceramic vase with tulips');
  await subject.getByLabel('Position').fill('center');

  await panel.getByRole('radiogroup', { name: 'Edit as' }).getByText('JSON', { exact: true }).click();
  const json = panel.getByLabel('Structured JSON');
  const fromForm = JSON.parse(await json.inputValue()) as Record<string, unknown>;
  expect(fromForm).toEqual({ scene: 'A flower shop window at dawn', subjects: [{ description: 'a ceramic vase with tulips', position: 'center' }] });
  await json.fill(JSON.stringify({ ...fromForm, lighting: 'soft morning light', color_palette: ['#ffcc0g'] }, null, 2));
  // Shown live under the JSON, with the path; and Generate says why it is blocked.
  const jsonError = panel.getByRole('listitem').filter({ has: page.locator('code', { hasText: 'color_palette[0]' }) });
  await expect.poll(() => jsonError.textContent()).toBe('color_palette[0] "#ffcc0g" is not a hex colour: use #RRGGBB, e.g. #02eb3c');
  expect(await generate.isDisabled()).toBe(true);
  expect(await panel.getByText(/^Structured prompt \(color_palette\[0\]\): "#ffcc0g" is not a hex colour/).isVisible()).toBe(true);
  await json.fill(JSON.stringify({ ...fromForm, lighting: 'soft morning light', color_palette: ['#ffcc00'] }, null, 2));
  await expect.poll(() => panel.getByText('Valid structured prompt').isVisible()).toBe(true);

  const [second] = await Promise.all([generationPost(), generate.click()]);
  const sent = JSON.parse((second.postDataJSON() as { prompt: string }).prompt) as Record<string, unknown>;
  expect(sent).toEqual({
    typography: [{ text: `"${HEADLINE}"`, font_style: 'bold sans-serif', size: 'large headline', placement: 'at the top center', color: '#e11d48 (bright red)' }],
    scene: 'A flower shop window at dawn',
    subjects: [{ description: 'a ceramic vase with tulips', position: 'center' }],
    color_palette: ['#ffcc00', '#02eb3c'],
    color_usage: ['the vase in color #02eb3c (bright green)'],
    lighting: 'soft morning light',
  });
  expect(await preview.textContent()).toBe((second.postDataJSON() as { prompt: string }).prompt);
  await expect.poll(() => thumbnails.count(), { timeout: 30_000 }).toBe(2);

  // Three variations with a seed: three generations, seeds 4242, 4243, 4244, one batch.
  await panel.getByRole('textbox', { name: 'Seed' }).fill('4242');
  await panel.getByRole('radiogroup', { name: 'Images' }).getByText('3', { exact: true }).click();
  await expect.poll(() => generate.textContent()).toMatch(/^Generate 3\s*·\s*3 credits$/); // 1 credit per image at ≈1 MP
  await expect.poll(() => panel.getByText('3 images: seeds 4242 to 4244').isVisible()).toBe(true);
  const [third, answer] = await Promise.all([
    generationPost(),
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/generations'),
    generate.click(),
  ]);
  expect(third.postDataJSON()).toMatchObject({ count: 3, seed: 4242 });
  const created = (await answer.json()) as CreateGenerationResponse;
  expect(created.batch).toHaveLength(3);
  await expect.poll(() => thumbnails.count(), { timeout: 30_000 }).toBe(5);
  const batch = (await listGenerations()).filter((g) => created.batch.includes(g.id));
  expect(batch.map((g) => g.seed).sort()).toEqual([4242, 4243, 4244]);
  expect(new Set(batch.map((g) => g.batch_id)).size).toBe(1);
  expect(batch.every((g) => g.prompt === (third.postDataJSON() as { prompt: string }).prompt)).toBe(true);
  expect(loads).toBe(0);

  expect(consoleErrors).toEqual([]);
});
