/**
 * A store that fails in the middle of a run is not the run's failure: the run
 * pauses with its lease, nothing is recorded as failed, and once the store is back
 * the next pass resumes it without asking a provider twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Provider, Resource } from '../../src/engine/ports.js';
import type { PowerState } from '../../src/core/glossary.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';
import { officeHours } from './fixtures.js';
import { harness } from './harness.js';

const dev: Environment = {
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  graceMs: 15 * 60_000,
  tiers: [
    {
      name: 'apps',
      select: [{ provider: 'sandbox', kinds: ['ec2', 'ecs'], tags: { env: 'dev' } }],
    },
  ],
};

/** `store`, whose next `blip.calls` method calls fail as node-postgres does when the server goes away. */
function withBlips(store: Store, blip: { calls: number }): Store {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (blip.calls === 0) return (value as (...a: unknown[]) => unknown).apply(target, args);
        blip.calls -= 1;
        return Promise.reject(new Error('Connection terminated unexpectedly'));
      };
    },
  });
}

describe.each(DATABASES)('a store fault in the middle of a run, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('pauses the run, then resumes it once the store is back, acting once per resource', async () => {
    store = await database.open();
    const blip = { calls: 0 };
    const h = await harness(withBlips(store, blip), {
      schedules: [officeHours],
      environments: [dev],
      seeds: [
        { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } },
        { kind: 'ecs' as const, name: 'dev-api', tags: { env: 'dev' } },
      ],
      start: '2026-06-02T10:00Z',
    });
    await h.tickAt('2026-06-02T10:00Z');
    const acted: string[] = [];
    // The provider acts, then the store fails once: the outcome is not recorded, and the
    // store is back at once (a run that took the blip for its failure would record that).
    const sandbox = new Proxy(h.sandbox, {
      get(target, property) {
        if (property === 'act')
          return async (resources: readonly Resource[], state: PowerState) => {
            const outcomes = await target.act(resources, state);
            acted.push(...resources.map((r) => r.name));
            blip.calls = 1;
            return outcomes;
          };
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function'
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    }) as Provider;
    const engine = h.makeEngine('test', new Map([['sandbox', sandbox]]));
    const run = await engine.command('dev', 'stop', 'cli:bob', 0);
    await engine.tick();
    await engine.idle();
    expect(acted.sort()).toEqual(['dev-api', 'dev-web']);
    expect((await store.getRun(run.id))?.status).toBe('acting');
    expect((await store.queryEvents({ kind: 'run.finished' })).events).toEqual([]);
    for (let i = 0; i < 20 && (await store.getRun(run.id))?.status === 'acting'; i++) {
      h.clock.set(h.clock.now() + 60_000);
      await engine.tick();
      await engine.idle();
    }
    expect((await store.getRun(run.id))?.status).toBe('succeeded');
    expect(acted).toEqual(['dev-api', 'dev-web']);
    expect((await store.listSteps(run.id)).map((s) => [s.status, s.attempts])).toEqual([
      ['done', 1],
      ['done', 1],
    ]);
  });
});
