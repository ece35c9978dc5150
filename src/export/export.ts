/**
 * `lightsout events export`: the event log to files, streamed a page at a time in
 * id order, written in chunks (one file per UTC day of a chunk), each file to a
 * temporary name beside its final one and then linked into place. Incremental by
 * default: the last exported id is kept in the store per destination and format
 * and moves only once every file of the export is in place. Any failure removes
 * the files this export had already placed, so an export lands whole or not at all.
 */
import { accessSync, constants, linkSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Dialect } from '../store/db.js';
import type { EventRange } from '../store/queries/events.js';
import type { ExportFormat } from './layout.js';
import { ndjsonSink } from './ndjson.js';
import { pageReader } from './pages.js';
import type { PageSource } from './pages.js';
import { parquetSink } from './parquet.js';
import type { ChunkSink } from './sink.js';

/** The store as an export uses it. */
export interface ExportSource extends PageSource {
  readonly dialect: Dialect;
  firstEventIdSince(after: number, since: number): Promise<number | undefined>;
  readValue(key: string): Promise<number | undefined>;
  swapValue(key: string, expected: number | undefined, value: number): Promise<boolean>;
}

export interface ExportOptions {
  readonly out: string;
  readonly format: ExportFormat;
  /** A one-off export of the events recorded in `[from, to)`: the mark neither bounds nor moves. */
  readonly range?: EventRange | undefined;
  readonly now: number;
  /** Rows per store query. */
  readonly pageSize?: number;
  /** Rows written before the files of a chunk are closed and placed: bounds memory and temporary disk. */
  readonly chunkRows?: number;
  readonly progressEvery?: number;
  readonly onProgress?: (events: number, elapsedMs: number) => void;
  readonly clock?: () => number;
}

export interface ExportSummary {
  readonly format: ExportFormat;
  readonly out: string;
  readonly incremental: boolean;
  readonly events: number;
  readonly files: readonly string[];
  readonly firstId: number | null;
  readonly lastId: number | null;
  /** The mark before and after (incremental exports). */
  readonly mark: { readonly before: number; readonly after: number } | null;
  readonly elapsedMs: number;
}

/** Refused before anything is written (a flag to fix), or a failure that was undone. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
}

/**
 * On PostgreSQL an event becomes visible when its transaction commits, not in id
 * order; an incremental export leaves the last minute's events to the next one, so
 * it never moves its mark past an id still being committed.
 */
export const POSTGRES_SETTLE_MS = 60_000;

/**
 * Events per store query. A page is a few strings (one per UTC day it spans), some
 * 14 MB at 50,000 events of the engine's usual size: larger pages no longer
 * save time, smaller ones pay the query's fixed cost more often.
 */
export const PAGE_ROWS = 50_000;

/**
 * Events per chunk: each chunk's files are placed before the next page is read.
 * Memory does not depend on it (a page at a time is held); the temporary disk
 * (the chunk's files, for Parquet also its scratch lines) and the number of files
 * do: a day split across two chunks is two files.
 */
export const CHUNK_ROWS = 1_000_000;

/** The store key of an incremental export's mark. */
export function markKey(out: string, format: ExportFormat): string {
  return `events-export:${format}:${resolve(out)}`;
}

export async function exportEvents(
  source: ExportSource,
  options: ExportOptions,
): Promise<ExportSummary> {
  const clock = options.clock ?? Date.now;
  const started = clock();
  const out = resolve(options.out);
  const incremental = options.range === undefined;
  const key = markKey(out, options.format);
  const before = await source.readValue(key);
  if (!incremental && before !== undefined)
    throw new ExportError(
      `--out ${out} takes incremental ${options.format} exports (up to event ${before}); a --from/--to export there would repeat their rows: give it another --out`,
    );
  checkWritable(out);

  const after = before ?? 0;
  const upTo = incremental ? await lastSettledId(source, after, options.now) : undefined;
  const pageSize = options.pageSize ?? PAGE_ROWS;
  const chunkRows = options.chunkRows ?? CHUNK_ROWS;
  const progressEvery = options.progressEvery ?? 100_000;

  const sink: ChunkSink = options.format === 'parquet' ? await parquetSink(out) : ndjsonSink(out);
  const readPage = pageReader(source, { at: sink.at, range: options.range, upTo });
  const placed: string[] = [];
  let events = 0;
  let firstId: number | null = null;
  let lastId: number | null = null;
  let inChunk = 0;
  const placeChunk = async () => {
    for (const file of await sink.flush()) {
      place(file.temporary, file.final);
      placed.push(file.final);
    }
    inChunk = 0;
  };
  try {
    let cursor = after;
    for (;;) {
      const page = await readPage(cursor, pageSize);
      if (page.rows === 0) break;
      sink.add(page.days);
      const first = Math.min(...page.days.map((day) => day.firstId));
      const last = Math.max(...page.days.map((day) => day.lastId));
      firstId ??= first;
      lastId = last;
      cursor = last;
      const reported = Math.floor(events / progressEvery);
      events += page.rows;
      inChunk += page.rows;
      if (inChunk >= chunkRows) await placeChunk();
      if (Math.floor(events / progressEvery) > reported)
        options.onProgress?.(events, clock() - started);
      if (page.rows < pageSize) break;
    }
    if (inChunk > 0) await placeChunk();
    let mark: ExportSummary['mark'] = null;
    if (incremental) {
      const next = lastId ?? after;
      if (next !== after && !(await source.swapValue(key, before, next)))
        throw new ExportError(
          `another export to --out ${out} finished first; this one's files were removed: run it again for what is newer`,
        );
      mark = { before: after, after: next };
    }
    return {
      format: options.format,
      out,
      incremental,
      events,
      files: placed,
      firstId,
      lastId,
      mark,
      elapsedMs: clock() - started,
    };
  } catch (error) {
    for (const file of placed) rmSync(file, { force: true });
    if (error instanceof ExportError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new ExportError(`export to --out ${out} failed, nothing kept: ${reason}`, {
      cause: error,
    });
  } finally {
    await sink.close();
  }
}

/** Incremental exports stop before the events that may still be committing (PostgreSQL). */
async function lastSettledId(
  source: ExportSource,
  after: number,
  now: number,
): Promise<number | undefined> {
  if (source.dialect !== 'postgres') return undefined;
  const recent = await source.firstEventIdSince(after, now - POSTGRES_SETTLE_MS);
  return recent === undefined ? undefined : recent - 1;
}

/** `--out` must be a directory this process can write (made if missing), before anything is read. */
function checkWritable(out: string): void {
  try {
    mkdirSync(out, { recursive: true });
    if (!statSync(out).isDirectory()) throw new Error('not a directory');
    accessSync(out, constants.W_OK);
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error);
    throw new ExportError(
      `--out ${out} is not a directory that can be written (${reason}): give a writable directory`,
      { cause: error },
    );
  }
}

/**
 * A hard link then unlink, not a rename: a link fails when the name is taken, so a
 * file of an earlier export is never replaced.
 */
function place(temporary: string, final: string): void {
  try {
    linkSync(temporary, final);
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EEXIST')
      throw new ExportError(
        `${final} is already there, from an earlier export; give this export another --out`,
        { cause: error },
      );
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}
