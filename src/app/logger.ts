/** Structured logs (pino). Fields that can hold secrets are redacted wherever they appear. */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';

export const REDACTED_PATHS = [
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.webhook',
  '*.url',
  'db',
];

export function createLogger(
  destination?: DestinationStream,
  level = process.env.LIGHTSOUT_LOG_LEVEL ?? 'info',
): Logger {
  return pino(
    {
      level,
      base: { service: 'lightsout' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}
