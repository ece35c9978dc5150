/**
 * A failed stop of a database that started by itself is retried on it alone: the
 * retry never stops a machine a person started by hand. Found in review.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import { officeHours } from './fixtures.js';
import { harness } from './harness.js';

const dev: Environment = {
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  tiers: [
    { name: 'data', select: [{ provider: 'sandbox', kinds: ['rds'], tags: { env: 'dev' } }] },
    { name: 'apps', select: [{ provider: 'sandbox', kinds: ['ec2'], tags: { env: 'dev' } }] },
  ],
};

describe.each(DATABASES)('retrying a database that started by itself, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it("retrying a failed auto-restart stop leaves a person's machine alone", async () => {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev],
      seeds: [
        { kind: 'rds' as const, name: 'dev-db', tags: { env: 'dev' } },
        { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } },
      ],
      start: '2026-06-05T17:00Z',
    });
    for (const t of ['17:00', '17:45', '18:00']) await h.tickAt(`2026-06-05T${t}Z`);
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'off' });
    h.clock.set(at('2026-06-06T10:00Z'));
    await h.sandbox.setStateByHand('dev-db', 'on'); // AWS, after 7 days stopped
    await h.sandbox.setStateByHand('dev-web', 'on'); // a person, at the console
    h.sandbox.inject('dev-db', { kind: 'fail', reason: 'InvalidDBInstanceState' });
    await h.tickAt('2026-06-06T10:05Z'); // auto-restart stop of dev-db fails
    h.sandbox.inject('dev-db', undefined);
    await h.tickAt('2026-06-06T10:10Z'); // the retry
    const [retry] = await store.listRuns({ environment: 'dev' });
    expect(retry).toMatchObject({ trigger: 'retry', status: 'succeeded' });
    expect(JSON.parse(retry!.scope!)).toEqual(['sandbox:rds:dev-db']);
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'on' });
  });
});
