/**
 * NDJSON: one event per line, the same columns as the Parquet files (`at` an ISO
 * time, `payload` its JSON text), so one table definition reads both. The lines
 * come ready from the page reader (pages.ts); this writer only appends them to the
 * day's file. Plain `.ndjson`, not gzipped: gzip would cost more time than the
 * rest of the export (one core at some 50 MB/s), and every reader takes plain
 * files; compress downstream if the bytes matter.
 */
import { join } from 'node:path';
import { DayFiles } from './day-files.js';
import { fileName } from './layout.js';
import type { ChunkSink } from './sink.js';

export function ndjsonSink(out: string): ChunkSink {
  const files = new DayFiles(out, 'ndjson');
  return {
    at: 'iso',
    add(days) {
      files.append(days);
    },
    flush() {
      return Promise.resolve(
        files.close().map((file) => ({
          temporary: file.temporary,
          final: join(file.dir, fileName(file.firstId, file.lastId, 'ndjson')),
          rows: file.rows,
        })),
      );
    },
    close() {
      files.discard();
      return Promise.resolve();
    },
  };
}
