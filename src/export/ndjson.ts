/**
 * NDJSON: one event per line, the same columns as the Parquet files (`at` an ISO
 * time, `payload` its JSON text), so one table definition reads both. Plain
 * `.ndjson`, not gzipped: gzip would cost more time than the rest of the export
 * (one core at some 50 MB/s), and every reader takes plain files; compress
 * downstream if the bytes matter.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EventRow } from '../store/schema.js';
import { dayOf, fileName, partitionOf, temporaryName } from './layout.js';
import type { ChunkSink, WrittenFile } from './sink.js';

interface OpenFile {
  readonly fd: number;
  readonly dir: string;
  readonly temporary: string;
  readonly first: number;
  last: number;
  rows: number;
}

export function ndjsonSink(out: string): ChunkSink {
  const open = new Map<number, OpenFile>();
  const closeAll = () => {
    for (const file of open.values()) closeSync(file.fd);
  };
  return {
    add(rows) {
      // A page's lines for one day go out in one write.
      const lines = new Map<number, string[]>();
      for (const row of rows) {
        const day = dayOf(row.at);
        let file = open.get(day);
        if (file === undefined) {
          const dir = join(out, partitionOf(day));
          mkdirSync(dir, { recursive: true });
          const temporary = join(dir, temporaryName(`part-${row.id}.ndjson`));
          file = {
            fd: openSync(temporary, 'wx'),
            dir,
            temporary,
            first: row.id,
            last: row.id,
            rows: 0,
          };
          open.set(day, file);
        }
        file.last = row.id;
        file.rows += 1;
        let list = lines.get(day);
        if (list === undefined) lines.set(day, (list = []));
        list.push(line(row));
      }
      for (const [day, list] of lines) writeSync(open.get(day)!.fd, list.join(''));
      return Promise.resolve();
    },
    flush() {
      closeAll();
      const written: WrittenFile[] = [...open.values()].map((f) => ({
        temporary: f.temporary,
        final: join(f.dir, fileName(f.first, f.last, 'ndjson')),
        rows: f.rows,
      }));
      open.clear();
      return Promise.resolve(written);
    },
    close() {
      closeAll();
      for (const file of open.values()) rmSync(file.temporary, { force: true });
      open.clear();
      return Promise.resolve();
    },
  };
}

function line(row: EventRow): string {
  return `${JSON.stringify({
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    kind: row.kind,
    environment: row.environment,
    resource: row.resource,
    run_id: row.run_id,
    payload: row.payload,
  })}\n`;
}
