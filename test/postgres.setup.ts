/**
 * Each store test migrates its own PostgreSQL schema. They are dropped once the
 * whole suite is done, not one by one: dropping a schema while another test's
 * migrator lists the catalog makes that listing fail. The schemas of one run share
 * a prefix, so a suite running beside this one keeps its own.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export default function setup(): (() => Promise<void>) | undefined {
  const url = process.env.LIGHTSOUT_TEST_POSTGRES;
  if (url === undefined || url === '') return undefined;
  const prefix = `test_${randomUUID().slice(0, 8)}_`;
  // Read by test/store/databases.ts in the workers, which inherit this environment.
  process.env.LIGHTSOUT_TEST_SCHEMA_PREFIX = prefix;
  return async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>(
        'select nspname as name from pg_namespace where starts_with(nspname, $1)',
        [prefix],
      );
      for (const { name } of rows) await client.query(`drop schema "${name}" cascade`);
    } finally {
      await client.end();
    }
  };
}
