import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { freePort, startAtelierProcess, type AtelierProcess } from '../apps/server/test/support/process.ts';

/** Browser tests drive the real built studio, served by a real `atelier start`, in Debian's Chromium. */
const ROOT = path.resolve(import.meta.dirname, '..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function ensureStudioBuilt(): void {
  if (!fs.existsSync(path.join(ROOT, 'apps/web/dist/index.html'))) {
    execFileSync('npm', ['run', 'build', '-w', '@atelier/web'], { cwd: ROOT, stdio: 'inherit' });
  }
}

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

export async function startAtelier(env: Record<string, string> = {}): Promise<AtelierProcess & { dataDir: string; stop(): Promise<void> }> {
  ensureStudioBuilt();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-e2e-'));
  const port = await freePort();
  const proc = await startAtelierProcess({ DATA_DIR: dataDir, PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn', ...env }, port);
  return {
    ...proc,
    dataDir,
    async stop() {
      await proc.kill('SIGTERM');
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type Atelier = Awaited<ReturnType<typeof startAtelier>>;

/** A running Atelier, Chromium and one page at desktop size, with the page's console errors collected. */
export interface StudioSession {
  atelier: Atelier;
  browser: Browser;
  page: Page;
  /** Console errors and uncaught exceptions of the page; tests assert it stays empty (or clear it). */
  consoleErrors: string[];
  close(): Promise<void>;
}

export async function openStudio(opts: { env?: Record<string, string>; context?: BrowserContextOptions } = {}): Promise<StudioSession> {
  const atelier = await startAtelier(opts.env);
  const browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ...opts.context });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  return {
    atelier,
    browser,
    page,
    consoleErrors,
    async close() {
      await browser.close();
      await atelier.stop();
    },
  };
}

/**
 * Signs a new person up through the studio's own form (age confirmed) and waits for the empty studio.
 * Clears the console errors collected so far: the 401 from /api/me before signing up is expected.
 */
export async function signUpInStudio(session: StudioSession, person: { name: string; email: string }): Promise<void> {
  const { page, atelier } = session;
  await page.goto(`${atelier.url}/sign-up`);
  await page.getByLabel('Name').fill(person.name);
  await page.getByLabel('Email').fill(person.email);
  await page.getByLabel('Password').fill('correct horse battery staple');
  await page.getByLabel(/I am at least \d+ years old/).check();
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${atelier.url}/`);
  await page.getByRole('heading', { name: 'Your studio is empty' }).waitFor();
  session.consoleErrors.length = 0;
}
