import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '#src/lib/logger.ts';
import { createMailer } from './mailer.ts';
import { resetPasswordMail } from './templates.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atelier-outbox-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('mailer without SMTP', () => {
  it('writes the message to the outbox and logs where, without the link or the recipient’s name', async () => {
    const lines: string[] = [];
    const mailer = createMailer({ smtpUrl: null, from: 'Atelier <a@atelier.test>', outboxDir: path.join(dir, 'outbox'), logger: createLogger('info', { write: (l: string) => void lines.push(l) }) });
    const link = 'http://localhost:3000/api/auth/reset-password/SECRET-TOKEN?callbackURL=/reset-password';
    await mailer.send(resetPasswordMail('ada.lovelace@example.org', link));
    const files = fs.readdirSync(path.join(dir, 'outbox'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/\.eml$/);
    const file = path.join(dir, 'outbox', files[0]!);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const eml = fs.readFileSync(file, 'utf8');
    expect(eml).toMatch(/^To: ada\.lovelace@example\.org/m);
    expect(eml.replace(/=\r?\n/g, '')).toContain('SECRET-TOKEN');
    const log = lines.join('');
    expect(log).toContain(file);
    expect(log).toContain('@example.org');
    expect(log).not.toContain('ada.lovelace');
    expect(log).not.toContain('SECRET-TOKEN');
  });
});
