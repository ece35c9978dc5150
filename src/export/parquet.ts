/**
 * Parquet, written by DuckDB (a maintained writer whose files DuckDB, Athena and
 * Spark all read): a chunk's rows are appended to an in-memory DuckDB table, then
 * each UTC day of it is copied to its own file. Columns: id BIGINT, at TIMESTAMP
 * (UTC, microseconds), actor, kind, environment, resource, run_id, payload (JSON
 * text), snappy-compressed (what every reader takes); the partition columns live
 * in the path only, as Athena requires.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';
import { fileName, partitionOf, temporaryName } from './layout.js';
import type { ChunkSink, WrittenFile } from './sink.js';

const DAY_MS = 86_400_000;

export async function parquetSink(out: string): Promise<ChunkSink> {
  // Two threads: the machine's cores are shared with the store and the page reads.
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  const connection = await instance.connect();
  await connection.run(
    `create table chunk (id bigint, at_ms bigint, actor varchar, kind varchar,
      environment varchar, resource varchar, run_id varchar, payload varchar)`,
  );
  let appender: DuckDBAppender = await connection.createAppender('chunk');
  const pending: string[] = [];

  return {
    add(rows) {
      for (const row of rows) {
        appender.appendBigInt(BigInt(row.id));
        appender.appendBigInt(BigInt(row.at));
        appender.appendVarchar(row.actor);
        appender.appendVarchar(row.kind);
        appendText(appender, row.environment);
        appendText(appender, row.resource);
        appendText(appender, row.run_id);
        appender.appendVarchar(row.payload);
        appender.endRow();
      }
      return Promise.resolve();
    },
    async flush() {
      appender.closeSync();
      const written: WrittenFile[] = [];
      for (const day of await daysOf(connection)) {
        const dir = join(out, partitionOf(day.day));
        mkdirSync(dir, { recursive: true });
        const final = join(dir, fileName(day.first, day.last, 'parquet'));
        const temporary = join(dir, temporaryName(fileName(day.first, day.last, 'parquet')));
        pending.push(temporary);
        await connection.run(
          `copy (select id, make_timestamptz(at_ms * 1000) as "at", actor, kind, environment,
                   resource, run_id, payload
                 from chunk where at_ms >= ${day.day * DAY_MS} and at_ms < ${(day.day + 1) * DAY_MS}
                 order by id)
           to ${quote(temporary)} (format parquet)`,
        );
        written.push({ temporary, final, rows: day.rows });
      }
      await connection.run('delete from chunk');
      appender = await connection.createAppender('chunk');
      pending.length = 0;
      return written;
    },
    close() {
      try {
        appender.closeSync();
      } catch {
        // already closed by a flush that failed half-way
      }
      connection.closeSync();
      instance.closeSync();
      for (const temporary of pending) rmSync(temporary, { force: true });
      return Promise.resolve();
    },
  };
}

function appendText(appender: DuckDBAppender, value: string | null): void {
  if (value === null) appender.appendNull();
  else appender.appendVarchar(value);
}

async function daysOf(
  connection: DuckDBConnection,
): Promise<{ day: number; first: number; last: number; rows: number }[]> {
  const reader = await connection.runAndReadAll(
    `select floor(at_ms / ${DAY_MS})::bigint as day, min(id) as first, max(id) as last,
            count(*) as rows
       from chunk group by 1 order by 1`,
  );
  return reader.getRows().map(([day, first, last, rows]) => ({
    day: Number(day),
    first: Number(first),
    last: Number(last),
    rows: Number(rows),
  }));
}

/** A path as an SQL string literal. */
function quote(path: string): string {
  return `'${path.replaceAll("'", "''")}'`;
}
