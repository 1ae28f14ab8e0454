import fs from 'node:fs';
import path from 'node:path';
import { createOTP } from '@better-auth/utils/otp';
import { base32 } from '@better-auth/utils/base32';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchBrowser, startAtelier } from './support.ts';

/**
 * Two-factor authentication and sessions in a real browser: turn on TOTP in Settings, sign in with a
 * code, then sign another browser out from the Sessions panel. Set E2E_SCREENSHOTS=<dir> to keep
 * screenshots of each screen (light, dark, phone width).
 */
let atelier: Awaited<ReturnType<typeof startAtelier>>;
let browser: Browser;
const SHOTS = process.env.E2E_SCREENSHOTS;
const EMAIL = 'ada@example.com';
const PASSWORD = 'correct horse battery staple';

beforeAll(async () => {
  // Behind a (pretend) proxy that names the client's country, so the Sessions panel can show it.
  atelier = await startAtelier({ TRUST_PROXY: 'true', GEO_COUNTRY_HEADER: 'cf-ipcountry' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await atelier?.stop();
});

/** A fresh code for the key shown in Settings; each 30-second step is used once (the server refuses replays). */
const usedSteps = new Set<number>();
async function nextCode(key: string): Promise<string> {
  const raw = Buffer.from(base32.decode(key.replace(/\s+/g, ''))).toString('utf8');
  const now = Math.floor(Date.now() / 30_000);
  const step = [now, now + 1, now - 1].find((s) => !usedSteps.has(s))!;
  usedSteps.add(step);
  return createOTP(raw).hotp(step);
}

async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });
}

async function newPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  return { context, page: await context.newPage() };
}

async function signInWithPassword(page: Page) {
  await page.goto(`${atelier.url}/sign-in`);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

it('turns on two-factor authentication, signs in with a TOTP code, and signs another session out', async () => {
  const a = await newPage();
  const errors: string[] = [];
  a.page.on('pageerror', (e) => errors.push(e.message));

  // Sign up and open Settings.
  await a.page.goto(`${atelier.url}/sign-up`);
  await a.page.getByLabel('Name').fill('Ada');
  await a.page.getByLabel('Email').fill(EMAIL);
  await a.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await a.page.getByLabel(/I am at least \d+ years old/).check();
  await a.page.getByRole('button', { name: 'Create account' }).click();
  await a.page.waitForURL(`${atelier.url}/`);
  await a.page.goto(`${atelier.url}/settings`);

  // Turn on 2FA: password → QR code and key → code → recovery codes.
  await a.page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
  const dialog = a.page.getByRole('dialog');
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await dialog.getByRole('img', { name: /QR code/ }).waitFor();
  const key = (await dialog.getByTestId('totp-secret').textContent())!;
  await shot(a.page, '2fa-setup-light');
  await dialog.getByLabel(/code from your authenticator/i).fill(await nextCode(key));
  await dialog.getByRole('button', { name: 'Turn on' }).click();
  await dialog.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
  expect(await dialog.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem').count()).toBe(10);
  await shot(a.page, '2fa-recovery-codes-light');
  await dialog.getByRole('button', { name: 'I have saved them' }).click();
  await a.page.getByText('On', { exact: true }).waitFor();

  // A second browser: password, then the TOTP step on its own page.
  const b = await newPage({
    userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
    viewport: { width: 390, height: 844 },
    extraHTTPHeaders: { 'cf-ipcountry': 'DE' },
  });
  await signInWithPassword(b.page);
  await b.page.waitForURL(/\/sign-in\/two-factor/);
  await b.page.getByLabel('Code', { exact: true }).fill('000000');
  await b.page.getByRole('button', { name: 'Verify' }).click();
  await b.page.getByText(/That code is not right/).waitFor();
  await shot(b.page, 'totp-step-phone-light');
  await b.page.getByLabel('Code', { exact: true }).fill(await nextCode(key));
  await b.page.getByRole('button', { name: 'Verify' }).click();
  await b.page.waitForURL(`${atelier.url}/`);

  // The first browser sees both sessions and signs the phone out.
  await a.page.reload();
  const rows = a.page.getByTestId('session-row');
  await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
  await expect.poll(() => rows.filter({ hasText: 'This device' }).count(), { timeout: 15_000 }).toBe(1);
  // The phone's session carries the country its "proxy" reported, named in the browser's language.
  expect(await rows.filter({ hasText: 'Mobile Safari' }).getByText(/Germany · 127\.0\.0\.x/).count()).toBe(1);
  await shot(a.page, 'sessions-light');
  await a.page.getByRole('button', { name: /^Sign out Mobile Safari/ }).click();
  await a.page.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
  await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(1);

  // The phone is signed out: its next request sends it to the sign-in page.
  await b.page.goto(`${atelier.url}/settings`);
  await b.page.waitForURL(/\/sign-in/);
  expect(errors).toEqual([]);

  if (SHOTS) {
    const dark = await newPage({ colorScheme: 'dark' });
    await signInWithPassword(dark.page);
    await dark.page.waitForURL(/\/sign-in\/two-factor/);
    await shot(dark.page, 'totp-step-dark');
    await dark.page.getByLabel('Code', { exact: true }).fill(await nextCode(key));
    await dark.page.getByRole('button', { name: 'Verify' }).click();
    await dark.page.waitForURL(`${atelier.url}/`);
    await dark.page.goto(`${atelier.url}/settings`);
    await dark.page.getByTestId('session-row').first().waitFor();
    await dark.page.getByRole('heading', { name: 'Sessions' }).scrollIntoViewIfNeeded();
    await shot(dark.page, 'sessions-dark');
    const phone = await newPage({ colorScheme: 'dark', viewport: { width: 390, height: 844 }, storageState: await dark.context.storageState() });
    await phone.page.goto(`${atelier.url}/settings`);
    await phone.page.getByRole('heading', { name: 'Sessions' }).scrollIntoViewIfNeeded();
    await shot(phone.page, 'sessions-phone-dark');
    await phone.page.getByRole('button', { name: 'New recovery codes' }).click();
    await phone.page.getByRole('dialog').getByLabel('Password').fill(PASSWORD);
    await phone.page.getByRole('dialog').getByRole('button', { name: 'Create new codes' }).click();
    await phone.page.getByRole('dialog').getByRole('list', { name: 'Recovery codes' }).waitFor();
    await shot(phone.page, 'recovery-codes-phone-dark');

    // The setup dialog at phone width, for a second account.
    const grace = await newPage({ colorScheme: 'dark', viewport: { width: 390, height: 844 } });
    await grace.page.goto(`${atelier.url}/sign-up`);
    await grace.page.getByLabel('Name').fill('Grace');
    await grace.page.getByLabel('Email').fill('grace@example.com');
    await grace.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await grace.page.getByLabel(/I am at least \d+ years old/).check();
    await grace.page.getByRole('button', { name: 'Create account' }).click();
    await grace.page.waitForURL(`${atelier.url}/`);
    await grace.page.goto(`${atelier.url}/settings`);
    await grace.page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await grace.page.getByRole('dialog').getByLabel('Password').fill(PASSWORD);
    await grace.page.getByRole('dialog').getByRole('button', { name: 'Continue' }).click();
    await grace.page.getByRole('dialog').getByRole('img', { name: /QR code/ }).waitFor();
    await shot(grace.page, '2fa-setup-phone-dark');
  }
});
