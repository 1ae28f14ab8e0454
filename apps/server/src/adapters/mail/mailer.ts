import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { Logger } from 'pino';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
  /** Where undelivered mail goes on the embedded default (null when SMTP is configured). */
  readonly outboxDir: string | null;
}

/** `ada@example.com` → `…@example.com`: logs name the domain (useful to an operator) but not the person. */
export const redactEmail = (email: string) => `…@${email.split('@').pop() ?? ''}`;

/**
 * SMTP when SMTP_URL is set; otherwise every message is written to `<DATA_DIR>/outbox/<time>-<id>.eml`
 * so a local operator can still finish every e-mail flow. Links in messages are credentials: they are
 * never logged — the log says which file holds the message.
 */
export function createMailer(opts: { smtpUrl: string | null; from: string; outboxDir: string; logger: Logger }): Mailer {
  if (opts.smtpUrl) {
    const transport = nodemailer.createTransport(opts.smtpUrl);
    return {
      outboxDir: null,
      async send(message) {
        const info = await transport.sendMail({ from: opts.from, ...message });
        opts.logger.info({ to: redactEmail(message.to), subject: message.subject, messageId: info.messageId }, 'mail sent');
      },
    };
  }
  const writer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    outboxDir: opts.outboxDir,
    async send(message) {
      const info = await writer.sendMail({ from: opts.from, ...message });
      await fs.mkdir(opts.outboxDir, { recursive: true, mode: 0o700 });
      const file = path.join(opts.outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(4).toString('hex')}.eml`);
      await fs.writeFile(file, info.message as Buffer, { mode: 0o600 });
      opts.logger.info({ to: redactEmail(message.to), subject: message.subject, file }, 'mail written to the outbox (no SMTP_URL configured): open the file to follow its link');
    },
  };
}
