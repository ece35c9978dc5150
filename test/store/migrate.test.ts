/**
 * The migrator looks at lightsout's own schema only. Kysely's lists every table of
 * every schema; on PostgreSQL a schema dropped by someone else during that listing
 * failed the start with `schema "..." does not exist` (two test suites sharing a
 * database did it).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { DATABASES } from './databases.js';

const postgres = DATABASES.find((d) => d.name === 'postgres');
const server = process.env.LIGHTSOUT_TEST_POSTGRES;

describe.runIf(postgres !== undefined && server !== undefined)('the migrator on postgres', () => {
  it('migrates while other schemas are created and dropped beside it', async () => {
    const churners = 4;
    const stores = 8;
    let stop = false;
    let churned = 0;
    // Others' schemas, each with a table, made and dropped as fast as the server allows.
    const churn = async () => {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      try {
        while (!stop) {
          const name = `churn_${randomUUID().replaceAll('-', '')}`;
          await client.query(`create schema ${name}`);
          await client.query(`create table ${name}.t (id integer primary key, note text)`);
          await client.query(`drop schema ${name} cascade`);
          churned++;
        }
      } finally {
        await client.end();
      }
    };
    const churning = Array.from({ length: churners }, churn);
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < stores; i++) {
        try {
          const store = await openStore(postgres!.url());
          await store.close();
          outcomes.push('migrated');
        } catch (error) {
          outcomes.push(error instanceof Error ? error.message : String(error));
        }
      }
    } finally {
      stop = true;
      await Promise.all(churning);
    }
    expect(churned).toBeGreaterThan(stores);
    expect(outcomes).toEqual(Array<string>(stores).fill('migrated'));
  }, 60_000);
});
