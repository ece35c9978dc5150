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
      const schema = `test_${randomUUID().replaceAll('-', '')}`;
      const separator = url.includes('?') ? '&' : '?';
      const store = await openStore(`${url}${separator}schema=${schema}`);
      // Dropped on close: schemas left behind slow every later catalog query.
      const close = store.close.bind(store);
      store.close = async () => {
        await store.db.schema.dropSchema(schema).ifExists().cascade().execute();
        await close();
      };
      return store;
    },
  };
}

const postgresUrl = process.env.LIGHTSOUT_TEST_POSTGRES;

export const DATABASES: readonly TestDatabase[] =
  postgresUrl === undefined || postgresUrl === '' ? [sqlite] : [sqlite, postgres(postgresUrl)];
