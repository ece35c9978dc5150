/**
 * `lightsout events export`: the event log to NDJSON or Parquet files under --out,
 * partitioned by UTC day, incremental unless --from/--to bound a one-off export.
 * Progress goes to stderr; stdout carries the summary (a line, or JSON with --json).
 */
import type { Instant } from '../core/glossary.js';
import { exportEvents, ExportError } from '../export/export.js';
import type { ExportSummary } from '../export/export.js';
import { EXPORT_FORMATS } from '../export/layout.js';
import type { ExportFormat } from '../export/layout.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';
import { readTime, withContext } from './operate.js';
import type { StoreOptions } from './operate.js';

export interface EventsExportOptions extends StoreOptions {
  readonly format: string;
  readonly out: string;
  readonly from?: string;
  readonly to?: string;
}

interface ExportInput {
  readonly format: ExportFormat;
  readonly range?: { from?: Instant | undefined; to?: Instant | undefined };
}

export async function eventsExportCommand(
  options: EventsExportOptions,
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    (_config, now) => readInput(options, now),
    async (context, input) => {
      let summary: ExportSummary;
      try {
        summary = await exportEvents(context.store, {
          out: options.out,
          format: input.format,
          range: input.range,
          now: context.now,
          onProgress: (events, elapsedMs) => {
            io.err(`exported ${events} events (${rate(events, elapsedMs)} events/s)`);
          },
        });
      } catch (error) {
        if (error instanceof ExportError) {
          io.err(`error: ${error.message}`);
          return EXIT.exportFailed;
        }
        throw error;
      }
      io.err(
        `done: ${summary.events} events in ${summary.files.length} files, ${(summary.elapsedMs / 1000).toFixed(1)} s, ${rate(summary.events, summary.elapsedMs)} events/s`,
      );
      if (options.json === true) io.out(JSON.stringify(summaryJson(summary)));
      else io.out(summaryLine(summary));
      return EXIT.ok;
    },
  );
}

function readInput(options: EventsExportOptions, now: Instant): ExportInput {
  if (!(EXPORT_FORMATS as readonly string[]).includes(options.format))
    throw new UsageError(
      `--format ${options.format} is not a format of the export; use ${EXPORT_FORMATS.join(' or ')}`,
    );
  const format = options.format as ExportFormat;
  const from = options.from === undefined ? undefined : readUtcTime('from', options.from, now);
  const to = options.to === undefined ? undefined : readUtcTime('to', options.to, now);
  if (from !== undefined && to !== undefined && to <= from)
    throw new UsageError(
      `--to ${new Date(to).toISOString()} is not after --from ${new Date(from).toISOString()}; give a --to later than --from`,
    );
  return from === undefined && to === undefined ? { format } : { format, range: { from, to } };
}

/** `--from`/`--to`: an instant with its offset (days are cut in UTC, not in a zone), or +DURATION. */
function readUtcTime(flag: string, text: string, now: Instant): Instant {
  const trimmed = text.trim();
  if (!trimmed.startsWith('+') && !/(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed))
    throw new UsageError(
      `--${flag} "${text}" has no time zone; add Z or an offset, e.g. ${trimmed}Z`,
    );
  return readTime(flag, text, undefined, now);
}

function rate(events: number, elapsedMs: number): number {
  return Math.round(events / Math.max(elapsedMs / 1000, 0.001));
}

function summaryJson(summary: ExportSummary) {
  return {
    format: summary.format,
    out: summary.out,
    incremental: summary.incremental,
    events: summary.events,
    files: summary.files.length,
    firstId: summary.firstId,
    lastId: summary.lastId,
    mark: summary.mark,
    seconds: summary.elapsedMs / 1000,
    eventsPerSecond: rate(summary.events, summary.elapsedMs),
  };
}

function summaryLine(summary: ExportSummary): string {
  if (summary.events === 0)
    return summary.incremental
      ? `nothing new to export to ${summary.out} (exported up to event ${summary.mark?.after ?? 0})`
      : `no events in that window; nothing written to ${summary.out}`;
  const ids = `events ${summary.firstId}-${summary.lastId}`;
  return `exported ${summary.events} ${ids} to ${summary.out} in ${summary.files.length} ${summary.format} files${summary.incremental ? '' : ' (one-off: the incremental mark is unchanged)'}`;
}
