import pino, { type Logger } from 'pino';

/**
 * Structured logs. Secrets, cookies, keys and passwords are redacted wherever they appear; prompts are
 * never logged (services log ids, not content).
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-key"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.apiKey',
        '*.prompt',
        '*.key',
      ],
      censor: '[redacted]',
    },
  });
}
