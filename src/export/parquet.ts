/**
 * Parquet, written by DuckDB (a maintained writer whose files DuckDB, Athena and
 * Spark all read). A chunk's lines go to one scratch NDJSON file per UTC day (a
 * dotted temporary name in the day's folder, `at` in epoch milliseconds), and at
 * the chunk's end DuckDB reads each (`read_json`, in C++, on its own threads)
 * and copies it to the day's Parquet file. Appending row by row through the
 * appender cost 3.3 µs an event in JavaScript; reading the file costs DuckDB
 * under 1 µs and JavaScript nothing. Columns: id BIGINT, at TIMESTAMP (UTC,
 * microseconds), actor, kind, environment, resource, run_id, payload (JSON text),
 * snappy-compressed (what every reader takes); the partition columns live in the
 * path only, as Athena requires.
 *
 * A day's file is converted as soon as a page no longer reaches that day, so
 * DuckDB writes the Parquet of one day while the store is read for the next;
 * the files are still placed a chunk at a time, by the exporter.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DayFiles } from './day-files.js';
import type { DayFile } from './day-files.js';
import { fileName, temporaryName } from './layout.js';
import type { ChunkSink, WrittenFile } from './sink.js';

/** The scratch lines' columns, by name: nothing is inferred from the data. */
const COLUMNS = `{id: 'BIGINT', "at": 'BIGINT', actor: 'VARCHAR', kind: 'VARCHAR',
  environment: 'VARCHAR', resource: 'VARCHAR', run_id: 'VARCHAR', payload: 'VARCHAR'}`;

export async function parquetSink(out: string): Promise<ChunkSink> {
  // Two DuckDBs of one thread each, so two days convert at once: a day's file is
  // too small for one COPY to gain from a second thread (it cost 1.4 µs of CPU an
  // event with two threads, 0.9 µs with one), and the cores are shared with the
  // store's reads. Insertion order kept (DuckDB's default, said here because the
  // files rely on it): a file's rows stay in id order without a sort.
  const idle: Promise<void> = Promise.resolve();
  const lanes = await Promise.all(
    [0, 1].map(async () => {
      const instance = await DuckDBInstance.create(':memory:', {
        threads: '1',
        preserve_insertion_order: 'true',
      });
      const connection = await instance.connect();
      return { instance, connection, converting: idle };
    }),
  );
  let next = 0;
  const scratch = new DayFiles(out, 'jsonl');
  /** Temporary files not placed yet: removed by `close` when the export fails. */
  const pending: string[] = [];
  /** Conversions run on DuckDB's threads, while the store is read. */
  let converted: WrittenFile[] = [];
  const settled = () => Promise.all(lanes.map((lane) => lane.converting));

  const convert = (day: DayFile) => {
    const name = fileName(day.firstId, day.lastId, 'parquet');
    const temporary = join(day.dir, temporaryName(name));
    pending.push(day.temporary, temporary);
    const lane = lanes[next++ % lanes.length]!;
    lane.converting = lane.converting.then(async () => {
      await lane.connection.run(
        `copy (select id, make_timestamptz("at" * 1000) as "at", actor, kind, environment,
                      resource, run_id, payload
                 from read_json(${quote(day.temporary)}, format = 'newline_delimited',
                                columns = ${COLUMNS}))
         to ${quote(temporary)} (format parquet, compression snappy)`,
      );
      rmSync(day.temporary, { force: true });
      converted.push({ temporary, final: join(day.dir, name), rows: day.rows });
    });
    // Awaited by the next flush or by close; until then a failure must not count as unhandled.
    lane.converting.catch(() => undefined);
  };

  return {
    at: 'epoch-ms',
    add(days) {
      scratch.append(days);
      // A day the page did not reach is most likely over (events come in time
      // order, near enough): it is converted while the next pages are read. An
      // event of that day coming later starts a file of its own.
      const inPage = new Set(days.map((day) => day.day));
      for (const day of scratch.closeUnless((d) => inPage.has(d))) convert(day);
    },
    async flush() {
      for (const day of scratch.close()) convert(day);
      await settled();
      // Two lanes finish in any order; the exporter places a chunk's files by day.
      const written = converted.sort((a, b) => a.final.localeCompare(b.final));
      converted = [];
      // The exporter places these before it reads on; `close` forgets nothing it must remove.
      return written;
    },
    async close() {
      await settled().catch(() => undefined);
      scratch.discard();
      for (const lane of lanes) {
        lane.connection.closeSync();
        lane.instance.closeSync();
      }
      for (const file of pending) rmSync(file, { force: true });
    },
  };
}

/** A path as an SQL string literal. */
function quote(path: string): string {
  return `'${path.replaceAll("'", "''")}'`;
}
