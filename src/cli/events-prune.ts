/**
 * `lightsout events prune`: deletes the events older than the config's `retention`
 * (or `--older-than`) now, as `serve` does every hour. Progress goes to stderr;
 * stdout carries the summary (a line, or JSON with --json).
 */
import ms from 'ms';
import type { Instant } from '../core/glossary.js';
import { pruneBefore } from '../app/retention.js';
import { parseDuration } from '../config/schema.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';
import { withContext } from './operate.js';
import type { StoreOptions } from './operate.js';

export interface EventsPruneOptions extends StoreOptions {
  readonly olderThan?: string;
}

const DAY = 86_400_000;

export async function eventsPruneCommand(options: EventsPruneOptions, io: CliIo): Promise<number> {
  return withContext(
    options,
    io,
    (config, now) => cutoffOf(options, config.document.retention, now),
    async (context, cutoff) => {
      if (cutoff === undefined) {
        io.out(
          'retention is forever in the config: nothing deleted (pass --older-than to prune anyway)',
        );
        return EXIT.ok;
      }
      const deleted = await pruneBefore(context.store, cutoff.before, (total) => {
        io.err(`deleted ${total} events`);
      });
      const before = new Date(cutoff.before).toISOString();
      if (options.json === true)
        io.out(
          JSON.stringify({ deleted, before, olderThan: ms(cutoff.olderThanMs, { long: true }) }),
        );
      else
        io.out(
          deleted === 0
            ? `no events recorded before ${before}; nothing deleted`
            : `deleted ${deleted} events recorded before ${before} (older than ${ms(cutoff.olderThanMs, { long: true })}); savings keep them in the power ledger`,
        );
      return EXIT.ok;
    },
  );
}

function cutoffOf(
  options: EventsPruneOptions,
  retention: number | 'forever',
  now: Instant,
): { before: Instant; olderThanMs: number } | undefined {
  if (options.olderThan === undefined)
    return retention === 'forever'
      ? undefined
      : { before: now - retention, olderThanMs: retention };
  const parsed = parseDuration(options.olderThan);
  if (!parsed.ok || parsed.value < DAY)
    throw new UsageError(
      `--older-than "${options.olderThan}" is not a duration of a day or more; write one such as 400d or 90d`,
    );
  return { before: now - parsed.value, olderThanMs: parsed.value };
}
