/**
 * The suite gets a PostgreSQL database of its own: created here from template0
 * before any test, named in LIGHTSOUT_TEST_POSTGRES for the workers (which inherit
 * this environment; test/store/databases.ts reads it), and dropped WITH (FORCE) when
 * the suite ends. Two suites on one server (two checkouts, two CI jobs) never see
 * each other's schemas, and nothing is left behind. Within it, each store test
 * still migrates a schema of its own. The role in the URL needs CREATEDB.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  const server = process.env.LIGHTSOUT_TEST_POSTGRES;
  if (server === undefined || server === '') return undefined;
  const name = `lightsout_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await administer(server, `create database ${name} template template0`);
  const own = new URL(server);
  own.pathname = `/${name}`;
  process.env.LIGHTSOUT_TEST_POSTGRES = own.toString();
  return async () => {
    process.env.LIGHTSOUT_TEST_POSTGRES = server;
    // FORCE ends the connections a crashed or hung test left open.
    await administer(server, `drop database if exists ${name} with (force)`);
  };
}

/** Runs one statement on the database of `url` (not the one it creates or drops). */
async function administer(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
