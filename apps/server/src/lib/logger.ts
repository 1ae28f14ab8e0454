import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Structured logs. Secrets, cookies, keys and passwords are redacted wherever they appear; prompts are
 * never logged (services log ids, not content).
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
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
  };
  return destination ? pino(options, destination) : pino(options);
}
