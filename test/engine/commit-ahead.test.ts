/**
 * Scheduled changes committed ahead of their instant (issue 16): a start, and a
 * stop whose grace is shorter than COMMIT_AHEAD_MS, are committed that far ahead
 * and act at the instant, so many transitions on one instant cost no commits at it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import { COMMIT_AHEAD_MS } from '../../src/engine/context.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import { officeHours } from './fixtures.js';
import { harness } from './harness.js';

const dev: Environment = {
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  graceMs: 0,
  tiers: [{ name: 'apps', select: [{ provider: 'sandbox', tags: { env: 'dev' } }] }],
};

/** The instant COMMIT_AHEAD_MS before `iso`, as an ISO string for tickAt. */
const aheadOf = (iso: string) => new Date(at(iso) - COMMIT_AHEAD_MS).toISOString();

describe.each(DATABASES)('changes committed ahead, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  // Monday 1 June 2026, 17:00: dev is on, its stop at 18:00.
  const setup = async () =>
    harness((store = await database.open()), {
      schedules: [officeHours],
      environments: [dev],
      seeds: [{ kind: 'ec2', name: 'dev-web', tags: { env: 'dev' } }],
      start: '2026-06-01T17:00Z',
    });

  it('a pass wakes COMMIT_AHEAD_MS before the stop, commits it unwarned, and it acts at its instant', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    const wake = await h.tickAt('2026-06-01T17:59:45Z');
    expect(wake).toBe(at('2026-06-01T18:00Z') - COMMIT_AHEAD_MS);
    expect(await store!.listRuns({ environment: 'dev' })).toEqual([]);
    await h.tickAt(aheadOf('2026-06-01T18:00Z'));
    const [run] = await store!.listRuns({ environment: 'dev', status: 'grace' });
    expect(run).toMatchObject({
      direction: 'stop',
      due_at: at('2026-06-01T18:00Z'),
      act_at: at('2026-06-01T18:00Z'),
    });
    expect(await h.states()).toEqual({ 'dev-web': 'on' });
    await h.tickAt('2026-06-01T18:00Z');
    expect(await h.states()).toEqual({ 'dev-web': 'off' });
    const [step] = await store!.listSteps(run!.id);
    expect(step?.started_at).toBe(at('2026-06-01T18:00Z'));
    // Grace 0: nobody is warned, ahead or not.
    expect(h.notifier.notices.map((n) => n.kind)).toEqual(['run-summary']);
  });

  it('a scheduled start is committed ahead and acts at its instant', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T18:00Z');
    await h.tickAt(aheadOf('2026-06-02T08:00Z'));
    const [run] = await store!.listRuns({ environment: 'dev', status: 'grace' });
    expect(run).toMatchObject({ direction: 'start', act_at: at('2026-06-02T08:00Z') });
    expect(await h.states()).toEqual({ 'dev-web': 'off' });
    await h.tickAt('2026-06-02T08:00Z');
    expect(await h.states()).toEqual({ 'dev-web': 'on' });
    expect((await store!.getRun(run!.id))?.status).toBe('succeeded');
  });

  it('a start is committed COMMIT_AHEAD_MS ahead whatever the grace, which is for stops', async () => {
    const h = await harness((store = await database.open()), {
      schedules: [officeHours],
      environments: [{ ...dev, graceMs: 15 * 60_000 }],
      seeds: [{ kind: 'ec2', name: 'dev-web', tags: { env: 'dev' }, state: 'off' }],
      start: '2026-06-02T07:00Z',
    });
    await h.tickAt('2026-06-02T07:00Z');
    await h.tickAt('2026-06-02T07:45Z');
    expect(await store.listRuns({ environment: 'dev' })).toEqual([]);
    await h.tickAt(aheadOf('2026-06-02T08:00Z'));
    const [run] = await store.listRuns({ environment: 'dev', status: 'grace' });
    expect(run).toMatchObject({ direction: 'start', act_at: at('2026-06-02T08:00Z') });
  });

  it('a start committed ahead that a hold-off made meanwhile calls off never acts', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T18:00Z');
    await h.tickAt(aheadOf('2026-06-02T08:00Z'));
    const [run] = await store!.listRuns({ environment: 'dev', status: 'grace' });
    await h.engine.hold('dev', { state: 'off', until: at('2026-06-02T12:00Z') }, 'test');
    await h.tickAt('2026-06-02T08:00Z');
    expect(await h.states()).toEqual({ 'dev-web': 'off' });
    expect((await store!.getRun(run!.id))?.status).toBe('superseded');
    expect(await store!.listSteps(run!.id)).toEqual([]);
  });
});
