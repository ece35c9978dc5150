/**
 * Stores made before applied state existed (migration 0006) migrate forward: each
 * environment's applied state is derived once from its last finished start or
 * stop; a last run that failed is retried; environments without runs are adopted
 * by the first pass.
 */
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/store/db.js';
import type { Connection } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { DATABASES } from './databases.js';

describe.each(DATABASES)('migrating a store to applied state, on $name', (database) => {
  let connection: Connection | undefined;
  afterEach(async () => {
    await connection?.close();
    connection = undefined;
  });

  it('derives each environment applied state from its last finished run', async () => {
    connection = await connect(database.url());
    await migrate(connection, '0005_plan_lookup');
    const run = (
      id: string,
      environment: string,
      direction: string,
      status: string,
      finishedAt: number | null,
      trigger = 'schedule',
    ) => sql`insert into runs (id, environment, direction, due_at, trigger, status, act_at, actor,
        created_at, updated_at, finished_at, lease_owner, lease_until, summary, scope, until_at)
      values (${id}, ${environment}, ${direction}, ${finishedAt ?? 0}, ${trigger}, ${status},
        ${finishedAt ?? 0}, 'scheduler', 0, 0, ${finishedAt}, null, null, null, null, null)`;
    for (const statement of [
      run('a1', 'dev', 'start', 'succeeded', 100),
      run('a2', 'dev', 'stop', 'succeeded', 200),
      run('a3', 'dev', 'start', 'cancelled', 300),
      run('a4', 'dev', 'boost', 'succeeded', 400),
      run('a5', 'dev', 'start', 'succeeded', 500, 'reservation'),
      run('b1', 'qa', 'stop', 'succeeded', 100),
      run('b2', 'qa', 'start', 'failed', 200),
      run('c1', 'uat', 'stop', 'grace', null),
    ])
      await statement.execute(connection.db);
    await migrate(connection);
    const rows = await connection.db
      .selectFrom('applied_states')
      .select(['environment', 'resource', 'state', 'run_id', 'failures'])
      .orderBy('environment')
      .execute();
    expect(rows).toEqual([
      { environment: 'dev', resource: '', state: 'off', run_id: 'a2', failures: 0 },
      { environment: 'qa', resource: '', state: 'on', run_id: 'b2', failures: 1 },
    ]);
    // Old runs keep a null sequence and never collide with new ones.
    const old = await connection.db.selectFrom('runs').select(['id', 'seq', 'target']).execute();
    expect(old.every((r) => r.seq === null && r.target === '')).toBe(true);
  });
});
