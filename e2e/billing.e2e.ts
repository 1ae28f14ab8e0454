import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createFakeStripe, type FakeStripe } from '../apps/server/test/fakes/fake-stripe.ts';
import { openStudio, signUpInStudio, type StudioSession } from './support.ts';

/**
 * Credits and billing in a real browser, against the fake Stripe on loopback (the server talks to it
 * with the official SDK; its hosted Checkout page is clicked through like Stripe's): sign up with a
 * balance of 0 → Generate is refused up front → buy a pack through Checkout → back on /billing the
 * balance becomes 500 when Stripe's webhook lands, pushed over SSE without a reload → generate → the
 * balance drops by exactly the price the Generate button quoted, and the history shows the hold and
 * the charge.
 */
let session: StudioSession;
let stripe: FakeStripe;
let page: Page;
let billingDir: string;

beforeAll(async () => {
  stripe = await createFakeStripe();
  const pack = stripe.createPrice({ unit_amount: 500, currency: 'usd', product_name: 'Starter pack' });
  const pro = stripe.createPrice({ unit_amount: 1900, currency: 'usd', product_name: 'Pro', recurring: { interval: 'month' } });
  billingDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-billing-'));
  const billingFile = path.join(billingDir, 'billing.json');
  fs.writeFileSync(
    billingFile,
    JSON.stringify({
      packs: [{ id: 'starter', name: 'Starter pack', credits: 500, stripe_price: pack.id }],
      plans: [{ id: 'pro', name: 'Pro', stripe_price: pro.id, monthly_credits: 2000, max_megapixels: 8, max_concurrent_generations: 4, features: ['Priority queue'] }],
    }),
  );
  // The offline model at 2 credits per started megapixel, so the price is not a coincidence of defaults.
  const catalogueFile = path.join(billingDir, 'catalogue.json');
  fs.writeFileSync(
    catalogueFile,
    JSON.stringify({
      models: [
        {
          id: 'offline',
          label: 'Offline preview',
          default_output_format: 'png',
          workflows: ['text-to-image', 'image-to-image', 'multi-reference'],
          max_reference_images: 10,
          price_credits: 2,
          routes: [{ engine: 'offline', engine_model: 'offline' }],
        },
      ],
    }),
  );
  const webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
  session = await openStudio({
    env: {
      STRIPE_SECRET_KEY: stripe.apiKey,
      STRIPE_WEBHOOK_SECRET: webhookSecret,
      STRIPE_API_URL: stripe.url,
      BILLING_FILE: billingFile,
      CATALOGUE_FILE: catalogueFile,
      SIGNUP_CREDITS: '0',
      FREE_MONTHLY_CREDITS: '0',
    },
  });
  stripe.setWebhookEndpoint(`${session.atelier.url}/api/billing/stripe/webhook`, webhookSecret);
  page = session.page;
});

afterAll(async () => {
  await session?.close();
  await stripe?.close();
  if (billingDir) fs.rmSync(billingDir, { recursive: true, force: true });
});

const chip = () => page.getByTestId('balance-chip');

it('buys a pack through Stripe Checkout, sees it land live, and pays for a generation with it', async () => {
  const { atelier } = session;
  await signUpInStudio(session, { name: 'Ada', email: 'ada@example.com' });
  // The studio's console stays clean; the fake Checkout page's missing favicon (a 404 on Stripe's origin) is not ours.
  const studioErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.location().url.startsWith(stripe.url)) studioErrors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (error) => studioErrors.push(error.message));

  // A balance of 0: the chip says so, and Generate is refused before anything is sent.
  await expect.poll(() => chip().textContent()).toBe('0 credits');
  await page.getByLabel('Prompt').fill('A lighthouse at dawn');
  const generate = page.getByRole('button', { name: /^Generate/ });
  await expect.poll(() => generate.isDisabled()).toBe(true);
  const shortfall = page.getByText('Not enough credits');
  await shortfall.waitFor();

  // "Buy credits" next to it leads to Billing & credits, inside the studio (no reload).
  let loads = 0;
  page.on('load', () => loads++);
  await page.getByRole('link', { name: 'Buy credits' }).click();
  await page.waitForURL(`${atelier.url}/billing`);
  await page.getByRole('heading', { name: 'Billing & credits' }).waitFor();
  expect(loads).toBe(0);
  const buy = page.getByRole('button', { name: /^Buy Starter pack: 500 credits for \$5\.00$/ });
  await buy.waitFor();
  await page.getByRole('heading', { name: 'Pro' }).waitFor();
  expect(await page.getByText('$19.00 / month').isVisible()).toBe(true);
  expect(await page.getByTestId('billing-balance').textContent()).toBe('0 credits');

  // Stripe's webhook is held back until the browser is back on /billing, to see the balance arrive live.
  stripe.deliveryMode = 'manual';
  await buy.click();
  await page.waitForURL(`${stripe.url}/checkout/pay/**`);
  expect(await page.getByTestId('amount').textContent()).toBe('$5.00');
  await page.getByRole('button', { name: 'Pay' }).click();
  await page.waitForURL(/\/billing\?checkout=cs_/);
  const notice = page.getByRole('status').filter({ hasText: 'Payment received — your credits arrive in a moment.' });
  await notice.waitFor();
  expect(await page.getByTestId('billing-balance').textContent()).toBe('0 credits');

  // Stripe delivers checkout.session.completed; the balance follows without a reload.
  loads = 0;
  await stripe.deliverPending();
  await page.getByRole('status').filter({ hasText: 'Payment complete. 500 credits added to your balance.' }).waitFor({ timeout: 30_000 });
  await expect.poll(() => page.getByTestId('billing-balance').textContent()).toBe('500 credits');
  await expect.poll(() => chip().textContent()).toBe('500 credits');
  expect(loads).toBe(0);
  const payments = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Amount' }) });
  await payments.getByRole('row').filter({ hasText: 'Starter pack' }).filter({ hasText: '$5.00' }).filter({ hasText: 'Paid' }).waitFor();
  expect(await payments.getByRole('link', { name: /Receipt/ }).count()).toBe(1);
  const history = page.getByRole('table', { name: 'Credit history' });
  await history.getByRole('row').filter({ hasText: 'Bought Starter pack' }).filter({ hasText: '+500' }).waitFor();

  // Back in the studio: Generate is offered at its quoted price, which is what the balance then loses.
  await page.getByRole('link', { name: 'Studio', exact: true }).click();
  await page.waitForURL(`${atelier.url}/`);
  await expect.poll(() => generate.isDisabled()).toBe(false);
  expect(await shortfall.count()).toBe(0);
  const label = (await generate.textContent()) ?? '';
  const quoted = Number(/· (\d[\d,]*) credits?/.exec(label)?.[1]?.replace(/,/g, ''));
  expect(quoted).toBeGreaterThan(0);
  await generate.click();
  const grid = page.getByRole('list', { name: /your images/i });
  await grid.locator('img[src*="/thumbnail"]').first().waitFor({ state: 'visible', timeout: 60_000 });
  await expect.poll(() => chip().textContent(), { timeout: 30_000 }).toBe(`${500 - quoted} credits`);
  expect(loads).toBe(0);

  // The history shows the reservation and the charge, each linked to the generation.
  await chip().click();
  await page.waitForURL(`${atelier.url}/billing`);
  await history.getByRole('row').filter({ hasText: 'Charged for a generation' }).filter({ hasText: `−${quoted}` }).waitFor();
  const hold = history.getByRole('row').filter({ hasText: 'Reserved for a generation' });
  expect(await hold.textContent()).toContain(`−${quoted}+${quoted}`);
  expect(await history.getByRole('link', { name: 'View the generation' }).count()).toBe(2);
  expect(await page.getByTestId('billing-balance').textContent()).toBe(`${500 - quoted} credits`);
  expect(loads).toBe(0);
  expect(studioErrors).toEqual([]);
});
