/**
 * The same store suite runs on SQLite (always) and on PostgreSQL when
 * LIGHTSOUT_TEST_POSTGRES is set (`.ci/run` sets it). Each test gets its own
 * SQLite file or its own PostgreSQL schema.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';

export interface TestDatabase {
  readonly name: string;
  /** A fresh, migrated, empty store. */
  open(): Promise<Store>;
}

const sqlite: TestDatabase = {
  name: 'sqlite',
  open: () =>
    openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-db-')), 'lightsout.db')}`),
};

function postgres(url: string): TestDatabase {
  return {
    name: 'postgres',
    async open() {
      // Dropped when the suite ends (test/postgres.setup.ts), by this run's prefix.
      const prefix = process.env.LIGHTSOUT_TEST_SCHEMA_PREFIX ?? 'test_';
      const schema = `${prefix}${randomUUID().replaceAll('-', '')}`;
      const separator = url.includes('?') ? '&' : '?';
      return openStore(`${url}${separator}schema=${schema}`);
    },
  };
}

const postgresUrl = process.env.LIGHTSOUT_TEST_POSTGRES;

export const DATABASES: readonly TestDatabase[] =
  postgresUrl === undefined || postgresUrl === '' ? [sqlite] : [sqlite, postgres(postgresUrl)];
