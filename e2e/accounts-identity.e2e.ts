import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeOidcProvider, type FakeOidcProvider } from '../apps/server/test/fakes/oidc-provider.ts';
import { startFakeSmtp, type FakeSmtp } from '../apps/server/test/fakes/smtp.ts';
import { freePort, startAtelierProcess, type AtelierProcess } from '../apps/server/test/support/process.ts';
import { ensureStudioBuilt, launchBrowser } from './support.ts';

/**
 * Identity in a real browser, against a real OpenID Connect provider (oidc-provider) and a real SMTP
 * server on loopback: sign in with the provider (and confirm the age once), sign up and verify the
 * e-mail from the received mail, reset a forgotten password from the received mail.
 */
let atelier: AtelierProcess;
let url: string;
let dataDir: string;
let smtp: FakeSmtp;
let idp: FakeOidcProvider;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ensureStudioBuilt();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  [smtp, idp] = await Promise.all([startFakeSmtp(), startFakeOidcProvider({ redirectUri: `${url}/api/auth/callback/oidc` })]);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-'));
  atelier = await startAtelierProcess(
    {
      DATA_DIR: dataDir,
      PUBLIC_URL: url,
      LOG_LEVEL: 'warn',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Atelier <mail@atelier.test>',
      OIDC_ISSUER: idp.url,
      OIDC_CLIENT_ID: idp.clientId,
      OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_NAME: 'Test SSO',
      // Three people sign in from one address within a minute.
      RATE_LIMIT_AUTH_PER_MINUTE: '1000',
    },
    port,
  );
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await atelier?.kill('SIGTERM');
  await Promise.all([smtp?.close(), idp?.close()]);
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  contexts.push(context);
  return context.newPage();
}

it('signs in with the OpenID Connect provider, confirms the age once, and lands in the studio', async () => {
  idp.nextLogin = { sub: 'e2e-ida', email: 'ida@idp.test', name: 'Ida' };
  const page = await newPage();
  await page.goto(`${url}/sign-in`);
  await page.getByRole('button', { name: 'Continue with Test SSO' }).click();
  await page.waitForURL(/\/confirm-age/);
  await page.getByRole('button', { name: 'Continue to the studio' }).click();
  await expect.poll(() => page.getByText(/Confirm that you are at least 13/).isVisible()).toBe(true);
  await page.getByLabel('I am at least 13 years old').check();
  await page.getByRole('button', { name: 'Continue to the studio' }).click();
  await page.waitForURL(`${url}/`);
  await expect.poll(() => page.getByRole('button', { name: 'Account: Ida' }).isVisible()).toBe(true);
  // The provider's e-mail counts as verified: no banner.
  expect(await page.getByText('Please confirm your e-mail address').count()).toBe(0);
});

it('signs up, receives the verification mail, follows it, and the reminder goes away', async () => {
  const page = await newPage();
  await page.goto(`${url}/sign-up`);
  await page.getByLabel('Name').fill('Jo');
  await page.getByLabel('Email').fill('jo@example.com');
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect.poll(() => page.getByText(/confirm your age to create an account/i).isVisible()).toBe(true);
  await page.getByLabel('I am at least 13 years old').check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${url}/`);
  await expect.poll(() => page.getByText('Please confirm your e-mail address').isVisible()).toBe(true);

  const mail = await smtp.waitFor('jo@example.com', { subject: /Confirm your e-mail/ });
  await page.goto(mail.link!);
  await page.waitForURL(/\/email-verified/);
  await expect.poll(() => page.getByRole('heading', { name: 'E-mail verified' }).isVisible()).toBe(true);
  await page.getByRole('link', { name: 'Go to the studio' }).click();
  await page.waitForURL(`${url}/`);
  await expect.poll(() => page.getByRole('button', { name: 'Account: Jo' }).isVisible()).toBe(true);
  expect(await page.getByText('Please confirm your e-mail address').count()).toBe(0);
});

it('resets a forgotten password from the mailed link; the link works once', async () => {
  const setup = await fetch(`${url}/api/auth/sign-up/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ email: 'kim@example.com', password: 'correct horse battery staple', name: 'Kim', ageConfirmed: true }),
  });
  expect(setup.status).toBe(200);
  const page = await newPage();
  await page.goto(`${url}/sign-in`);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  // The route is lazy: until its page shows, 'Email' is still the sign-in form's field.
  await expect.poll(() => page.getByRole('heading', { name: 'Reset your password' }).isVisible()).toBe(true);
  await page.getByLabel('Email').fill('kim@example.com');
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await expect.poll(() => page.getByText(/a reset link is on its way/).isVisible()).toBe(true);

  const mail = await smtp.waitFor('kim@example.com', { subject: /Reset your password/ });
  await page.goto(mail.link!);
  await page.waitForURL(/\/reset-password\?token=/);
  await page.getByLabel('New password').fill('password123');
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expect.poll(() => page.getByText(/common or breached/).isVisible()).toBe(true);
  await page.getByLabel('New password').fill('a brand new passphrase');
  await page.getByRole('button', { name: 'Set new password' }).click();
  await expect.poll(() => page.getByRole('heading', { name: 'Password changed' }).isVisible()).toBe(true);

  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Email').fill('kim@example.com');
  await page.getByLabel('Password').fill('a brand new passphrase');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(`${url}/`);

  // The same link again is refused with a clear message.
  const again = await newPage();
  await again.goto(mail.link!);
  await expect.poll(() => again.getByRole('heading', { name: 'This link can’t be used' }).isVisible()).toBe(true);
});
