/**
 * The same store suite runs on SQLite (always) and on PostgreSQL when
 * LIGHTSOUT_TEST_POSTGRES is set (`.ci/run` sets it; the global setup points it at a
 * database of this run's own). Each test gets its own SQLite file or its own
 * PostgreSQL schema.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';

export interface TestDatabase {
  readonly name: string;
  /** The `--db` URL of a fresh, empty database (for a process that opens its own store). */
  url(): string;
  /** A fresh, migrated, empty store. */
  open(): Promise<Store>;
}

function database(name: string, url: () => string): TestDatabase {
  return { name, url, open: () => openStore(url()) };
}

const sqlite = database(
  'sqlite',
  () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-db-')), 'lightsout.db')}`,
);

function postgres(url: string): TestDatabase {
  return database('postgres', () => {
    // In this run's own database, dropped with it when the suite ends (test/postgres.setup.ts).
    const schema = `test_${randomUUID().replaceAll('-', '')}`;
    return `${url}${url.includes('?') ? '&' : '?'}schema=${schema}`;
  });
}

const postgresUrl = process.env.LIGHTSOUT_TEST_POSTGRES;

export const DATABASES: readonly TestDatabase[] =
  postgresUrl === undefined || postgresUrl === '' ? [sqlite] : [sqlite, postgres(postgresUrl)];
