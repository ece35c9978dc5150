/**
 * better-sqlite3 with its prepared statements reused. Kysely's SQLite driver asks
 * for a new statement on every query, and preparing costs as much as running a
 * small one; the queries lightsout sends are a few hundred shapes, so statements
 * are kept by their SQL text (an LRU bounds the ones with variable IN lists).
 * Reuse is safe: Kysely holds the one connection for a whole query or stream, and
 * SQLite re-prepares a statement by itself when a migration changes the schema.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from 'kysely';
import { LRUCache } from 'lru-cache';

const CACHED_STATEMENTS = 500;

export function reusingStatements(database: SqliteDatabase.Database): KyselySqliteDatabase {
  const statements = new LRUCache<string, SqliteStatement>({ max: CACHED_STATEMENTS });
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}
