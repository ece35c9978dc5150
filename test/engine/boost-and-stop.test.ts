/**
 * A boost acting does not hold back a stop of its environment (a boost says nothing
 * about whether the environment is on). Found in review.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Provider, Resource } from '../../src/engine/ports.js';
import type { Store } from '../../src/store/store.js';
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
    {
      name: 'apps',
      select: [{ provider: 'sandbox', kinds: ['ec2', 'ecs'], tags: { env: 'dev' } }],
    },
  ],
};

describe.each(DATABASES)('a boost and a stop, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('a stop due during a boost is not held back by it', async () => {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev],
      seeds: [
        { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } },
        { kind: 'ecs' as const, name: 'dev-api', tags: { env: 'dev' } },
      ],
      start: '2026-06-02T10:00Z',
    });
    await h.tickAt('2026-06-02T10:00Z');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated = new Proxy(h.sandbox, {
      get(target, prop, receiver) {
        if (prop === 'boost')
          return async (resources: readonly Resource[], phase: 'begin' | 'end') => {
            if (phase === 'begin') await gate;
            return target.boost(resources, phase);
          };
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function'
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    }) as Provider;
    const engine = h.makeEngine('test', new Map([['sandbox', gated]]));
    await engine.boost('dev', 2 * 3_600_000, 'gus');
    await engine.tick(); // the boost starts acting, held at the gate
    const stop = await engine.command('dev', 'stop', 'cli:bob', 0); // --grace 0: stop now
    await engine.tick();
    // The stop's execution is under way in the background; give it a moment to begin acting.
    for (let i = 0; i < 50 && (await store.getRun(stop.id))?.status === 'grace'; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const status = (await store.getRun(stop.id))?.status;
    release();
    await engine.idle();
    expect(status).not.toBe('grace');
  });

  it("a boost's summary counts the services it boosted, not its steps", async () => {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev],
      seeds: [
        { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } },
        { kind: 'ecs' as const, name: 'dev-api', tags: { env: 'dev' } },
      ],
      start: '2026-06-02T10:00Z',
    });
    await h.tickAt('2026-06-02T10:00Z');
    const boost = await h.engine.boost('dev', 30 * 60_000, 'gus');
    await h.tickAt('2026-06-02T10:00Z');
    await h.engine.tick(); // the boost's end, after its half hour on the virtual clock
    await h.engine.idle();
    // One service, boosted then let scale in: two steps, one resource.
    expect((await store.listSteps(boost.id)).map((s) => s.action)).toEqual(['boost', 'unboost']);
    expect(h.notifier.notices.filter((n) => n.kind === 'run-summary').map((n) => n.text)).toEqual([
      'dev: boost succeeded (1 resource)',
    ]);
  });
});
