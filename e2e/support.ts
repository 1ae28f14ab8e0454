import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
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
