/**
 * Structured logs (pino). Fields that can hold secrets are redacted wherever they
 * appear. On a terminal they are printed for people (pino-pretty), elsewhere as
 * one JSON object a line; LIGHTSOUT_LOG_FORMAT=json|pretty chooses either way.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export const REDACTED_PATHS = [
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.webhook',
  '*.url',
  'db',
];

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** LIGHTSOUT_LOG_FORMAT holds neither json nor pretty. */
export class LogFormatError extends Error {
  override readonly name = 'LogFormatError';
}

/** `setting` (LIGHTSOUT_LOG_FORMAT) if given, else pretty on a terminal and JSON elsewhere. */
export function logFormat(setting: string | undefined, terminal: boolean): LogFormat {
  if (setting === undefined || setting === '') return terminal ? 'pretty' : 'json';
  if ((LOG_FORMATS as readonly string[]).includes(setting)) return setting as LogFormat;
  throw new LogFormatError(
    `LIGHTSOUT_LOG_FORMAT="${setting}" is not a log format; set it to json or pretty, or unset it`,
  );
}

export function createLogger(
  destination?: DestinationStream,
  level = process.env.LIGHTSOUT_LOG_LEVEL ?? 'info',
  format: LogFormat = destination === undefined
    ? logFormat(process.env.LIGHTSOUT_LOG_FORMAT, process.stdout.isTTY)
    : 'json',
): Logger {
  const options = {
    level,
    base: { service: 'lightsout' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (format === 'json') return pino(options, destination);
  // In this thread and synchronous (not pino's worker transport), so log lines
  // and what the command prints (the demo's banner) come out in the order written.
  return pino(
    options,
    PinoPretty({
      sync: true,
      destination: destination ?? 1,
      colorize: process.stdout.isTTY,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname,service',
      singleLine: true,
    }),
  );
}
