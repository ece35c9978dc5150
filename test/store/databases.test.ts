/**
 * On PostgreSQL the suite runs in a database of its own (test/postgres.setup.ts),
 * so two suites on one server never meet, and it is dropped at the end.
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import setup from '../postgres.setup.js';
import { DATABASES } from './databases.js';

const postgres = DATABASES.find((d) => d.name === 'postgres');

async function query<T extends pg.QueryResultRow>(url: string, text: string, values?: unknown[]) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe.runIf(postgres !== undefined)('the test database on postgres', () => {
  it("is this run's own, and each test's schema is in it", async () => {
    const url = postgres!.url();
    const [row] = await query<{ name: string }>(url, 'select current_database() as name');
    expect(row?.name).toMatch(/^lightsout_test_[0-9a-f]{12}$/);
    expect(new URL(url).pathname).toBe(`/${row?.name}`);
    expect(new URL(url).searchParams.get('schema')).toMatch(/^test_[0-9a-f]{32}$/);
  });

  it('is created by the global setup and dropped at the end, connections and all', async () => {
    const before = process.env.LIGHTSOUT_TEST_POSTGRES!;
    const teardown = await setup();
    const created = process.env.LIGHTSOUT_TEST_POSTGRES!;
    expect(teardown).toBeTypeOf('function');
    const name = new URL(created).pathname.slice(1);
    expect(name).toMatch(/^lightsout_test_[0-9a-f]{12}$/);
    expect(name).not.toBe(new URL(before).pathname.slice(1));
    // A connection left open, as by a test that hung: the drop must not wait for it.
    const left = new pg.Client({ connectionString: created });
    left.on('error', () => undefined);
    await left.connect();
    await left.query('create schema left_behind');
    await teardown!();
    expect(process.env.LIGHTSOUT_TEST_POSTGRES).toBe(before);
    const exists = await query(before, 'select 1 from pg_database where datname = $1', [name]);
    expect(exists).toEqual([]);
    await left.end().catch(() => undefined);
  });
});
