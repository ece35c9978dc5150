/**
 * A stop warned further ahead than the pass plans (`stop --grace 2h`) does not make
 * its environment's passes fail: reservations of its resources and an extend made
 * meanwhile are still acted on. Found in review.
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
    {
      name: 'apps',
      select: [{ provider: 'sandbox', kinds: ['ec2', 'ecs'], tags: { env: 'dev' } }],
    },
  ],
};

const fleet = [
  { kind: 'rds' as const, name: 'dev-db', tags: { env: 'dev' } },
  { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } },
  { kind: 'ecs' as const, name: 'dev-api', tags: { env: 'dev' } },
];

describe.each(DATABASES)('a long-graced stop, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('a stop with a long --grace does not make every pass of its environment fail', async () => {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev],
      seeds: fleet,
      start: '2026-06-02T10:00Z',
    });
    await h.tickAt('2026-06-02T10:00Z');
    h.clock.set(at('2026-06-02T10:00Z'));
    const stop = await h.engine.command('dev', 'stop', 'cli:bob', 2 * 3_600_000); // --grace 2h
    // Someone changes their mind: keep it on all day. The pass should call the stop off.
    h.clock.set(at('2026-06-02T10:05Z'));
    await h.engine.extend('dev', at('2026-06-02T18:00Z'), 'alice');
    await h.tickAt('2026-06-02T10:05Z');
    await h.tickAt('2026-06-02T10:30Z');
    const failed = (await store.queryEvents({ kind: 'reconcile.failed' })).events;
    expect(failed).toEqual([]);
    expect((await store.getRun(stop.id))?.status).toBe('superseded');
  });
});
