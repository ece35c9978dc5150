/**
 * Everyday changes of plan, each reproduced against the engine that inferred
 * "what did I do last" from run history (issue 11), now guarded against: the
 * engine records each target's applied state and compares it with the plan.
 * Numbered as the issue lists them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import { ScaledClock, VirtualClock } from '../../src/engine/clock.js';
import type { Engine } from '../../src/engine/engine.js';
import type { Notice, Notifier } from '../../src/engine/ports.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { periodSchedule } from '../core/build.js';
import { DATABASES } from '../store/databases.js';
import { officeHours } from './fixtures.js';
import { harness } from './harness.js';

const firstMonday = {
  ...periodSchedule('UTC', [{ days: 'mon#1', start: '08:00', stop: '18:00' }]),
  name: 'first-monday',
};

const dev = (extra: Partial<Environment> = {}): Environment => ({
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
  ...extra,
});

/** An environment with no schedule: off unless reserved or held. */
const unscheduled = (extra: Partial<Environment> = {}): Environment => {
  const environment = dev(extra);
  delete (environment as { schedule?: string }).schedule;
  return environment;
};

const fleet = (state: 'on' | 'off' = 'on') => [
  { kind: 'rds' as const, name: 'dev-db', tags: { env: 'dev' }, state },
  { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' }, state },
  { kind: 'ecs' as const, name: 'dev-api', tags: { env: 'dev' }, state },
];

const ALL_ON = { 'dev-db': 'on', 'dev-web': 'on', 'dev-api': 'on' };
const ALL_OFF = { 'dev-db': 'off', 'dev-web': 'off', 'dev-api': 'off' };

class FailingNotifier implements Notifier {
  send(): Promise<void> {
    return Promise.reject(new Error('the process died before the warning went out'));
  }
}

describe.each(DATABASES)('changes of plan on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function setup(
    options: { environment?: Environment; schedules?: (typeof officeHours)[]; start?: string } = {},
    seeds = fleet(),
  ) {
    store = await database.open();
    const h = await harness(store, {
      schedules: options.schedules ?? [officeHours, firstMonday],
      environments: [options.environment ?? dev()],
      seeds,
      start: options.start ?? '2026-06-01T17:00Z',
    });
    const s = store;
    /** Moves the clock, then asks the engine for a change, as the API would at that instant. */
    const asOf = <T>(iso: string, change: () => Promise<T>) => {
      h.clock.set(at(iso));
      return change();
    };
    const runs = async () => (await s.listRuns({ environment: 'dev', limit: 500 })).reverse();
    const events = async (kind: string) => (await s.queryEvents({ kind })).events;
    const idOf = async (name: string) =>
      (await h.sandbox.discover({ provider: 'sandbox' })).find((r) => r.name === name)!.id;
    /** The 18:00 stop of Monday, warned at 17:45. */
    const eveningStop = async () => {
      for (const time of ['17:00', '17:45', '18:00']) await h.tickAt(`2026-06-01T${time}Z`);
      expect(await h.states()).toEqual(ALL_OFF);
    };
    return { ...h, store: s, asOf, runs, events, idOf, eveningStop };
  }

  it('1. a hold without from starts the environment on every evening it is asked, and a hold-off stops it', async () => {
    const h = await setup();
    await h.eveningStop();
    for (const day of ['2026-06-01', '2026-06-02']) {
      if (day === '2026-06-02')
        for (const time of ['08:00', '17:45', '18:00']) await h.tickAt(`${day}T${time}Z`);
      await h.asOf(`${day}T19:00Z`, () =>
        h.engine.hold('dev', { state: 'on', until: at(`${day}T21:00Z`) }, 'api:alice'),
      );
      await h.tickAt(`${day}T19:00Z`);
      expect(await h.states()).toEqual(ALL_ON);
      await h.tickAt(`${day}T20:45Z`);
      await h.tickAt(`${day}T21:00Z`);
      expect(await h.states()).toEqual(ALL_OFF);
    }
    for (const day of ['2026-06-03', '2026-06-04']) {
      await h.tickAt(`${day}T08:00Z`);
      await h.asOf(`${day}T10:00Z`, () =>
        h.engine.hold('dev', { state: 'off', until: at(`${day}T12:00Z`) }, 'api:bob'),
      );
      await h.tickAt(`${day}T10:00Z`);
      expect(h.notifier.notices.at(-1)?.text).toContain('dev stops at 10:15 UTC');
      await h.tickAt(`${day}T10:15Z`);
      expect(await h.states()).toEqual(ALL_OFF);
      await h.tickAt(`${day}T12:00Z`);
      expect(await h.states()).toEqual(ALL_ON);
    }
  });

  it('2. a reservation made just after it starts turns the environment on, or the one instance reserved', async () => {
    const h = await setup();
    await h.eveningStop();
    await h.asOf('2026-06-01T18:01Z', () =>
      h.engine.reserve('dev', at('2026-06-01T18:00Z'), at('2026-06-01T20:00Z'), 'alice'),
    );
    await h.tickAt('2026-06-01T18:01Z');
    expect(await h.states()).toEqual(ALL_ON);
    await h.tickAt('2026-06-01T19:45Z');
    await h.tickAt('2026-06-01T20:00Z');
    expect(await h.states()).toEqual(ALL_OFF);

    const web = await h.idOf('dev-web');
    await h.asOf('2026-06-01T20:31Z', () =>
      h.engine.reserve(
        'dev',
        at('2026-06-01T20:30Z'),
        at('2026-06-01T22:00Z'),
        'alice',
        undefined,
        web,
      ),
    );
    await h.tickAt('2026-06-01T20:31Z');
    expect(await h.states()).toEqual({ ...ALL_OFF, 'dev-web': 'on' });
    await h.tickAt('2026-06-01T21:45Z');
    await h.tickAt('2026-06-01T22:00Z');
    expect(await h.states()).toEqual(ALL_OFF);
  });

  it('3a. a cancelled stop whose hold is deleted stops the whole environment, warned, and the database watch stays out of it', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:45Z');
    const [warned] = await h.store.listRuns({ environment: 'dev', status: 'grace' });
    await h.asOf('2026-06-01T17:50Z', () => h.engine.cancel(warned!.id, 'alice'));
    await h.tickAt('2026-06-01T18:00Z');
    expect(await h.states()).toEqual(ALL_ON);
    const [hold] = await h.store.listHolds(['dev'], at('2026-06-01T19:00Z'));
    await h.asOf('2026-06-01T19:00Z', () => h.engine.deleteHold(hold!, 'alice'));
    await h.tickAt('2026-06-01T19:00Z');
    expect(h.notifier.notices.at(-1)?.text).toContain('dev stops at 19:15 UTC');
    await h.tickAt('2026-06-01T19:15Z');
    expect(await h.states()).toEqual(ALL_OFF);
    await h.tickAt('2026-06-01T23:00Z');
    expect(await h.events('resource.restarted-by-itself')).toEqual([]);
    expect((await h.runs()).map((r) => [r.direction, r.trigger, r.status])).toEqual([
      ['stop', 'schedule', 'cancelled'],
      ['stop', 'catch-up', 'succeeded'],
    ]);
  });

  it('3b. a night-time reservation deleted, of the environment or of one instance, turns it off again', async () => {
    const h = await setup();
    const web = await h.idOf('dev-web');
    await h.engine.reserve('dev', at('2026-06-01T19:00Z'), at('2026-06-01T23:00Z'), 'alice');
    await h.eveningStop();
    await h.tickAt('2026-06-01T19:00Z');
    expect(await h.states()).toEqual(ALL_ON);
    const [whole] = await h.store.listReservations({ environments: ['dev'] });
    await h.asOf('2026-06-01T19:30Z', () => h.engine.deleteReservation(whole!, 'alice'));
    await h.tickAt('2026-06-01T19:30Z');
    await h.tickAt('2026-06-01T19:45Z');
    expect(await h.states()).toEqual(ALL_OFF);

    const alone = await h.asOf('2026-06-01T20:00Z', () =>
      h.engine.reserve(
        'dev',
        at('2026-06-01T20:00Z'),
        at('2026-06-01T23:00Z'),
        'alice',
        undefined,
        web,
      ),
    );
    await h.tickAt('2026-06-01T20:00Z');
    expect(await h.states()).toEqual({ ...ALL_OFF, 'dev-web': 'on' });
    await h.asOf('2026-06-01T20:30Z', () => h.engine.deleteReservation(alone, 'alice'));
    await h.tickAt('2026-06-01T20:30Z');
    await h.tickAt('2026-06-01T20:45Z');
    expect(await h.states()).toEqual(ALL_OFF);
  });

  it('4. a schedule that fires once a month, after more than 7 days down, is caught up once and stays off until its day', async () => {
    const h = await setup({
      environment: dev({ schedule: 'first-monday' }),
      start: '2026-06-01T10:00Z',
    });
    await h.tickAt('2026-06-01T10:00Z'); // the first Monday of June: on, adopted as it is
    await h.tickAt('2026-06-10T10:00Z'); // back after nine days
    await h.tickAt('2026-06-10T10:15Z');
    expect(await h.states()).toEqual(ALL_OFF);
    for (const day of ['2026-06-11', '2026-06-20', '2026-07-03']) await h.tickAt(`${day}T12:00Z`);
    expect(await h.states()).toEqual(ALL_OFF);
    await h.tickAt('2026-07-06T08:00Z');
    expect(await h.states()).toEqual(ALL_ON);
    expect((await h.runs()).map((r) => [r.direction, r.trigger])).toEqual([
      ['stop', 'catch-up'],
      ['start', 'schedule'],
    ]);
  });

  it('5. a stop killed after its apps tier, resumed the next morning, leaves the database on', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:45Z');
    const dying = h.makeEngine();
    const act = h.sandbox.act.bind(h.sandbox);
    h.sandbox.act = async (resources, target) => {
      const outcomes = await act(resources, target);
      void dying.shutdown(); // the process dies right after the apps tier was asked to stop
      return outcomes;
    };
    await h.tickAt('2026-06-01T18:00Z', dying);
    h.sandbox.act = act;
    const [stop] = await h.runs();
    expect(stop?.status).toBe('acting');

    await h.tickAt('2026-06-02T09:00Z', h.makeEngine());
    expect(await h.states()).toEqual(ALL_ON);
    const db = (await h.store.listSteps(stop!.id)).find((s) => s.resource.endsWith('dev-db'));
    expect(db).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await h.store.getRun(stop!.id))?.status).toBe('superseded');
    expect((await h.runs()).at(-1)).toMatchObject({ direction: 'start', status: 'succeeded' });
  });

  it('6. an on-window shorter than the grace still starts, and its stop is warned for the instant it happens', async () => {
    const h = await setup({ environment: unscheduled({ graceMs: 60 * 60_000 }) }, fleet('off'));
    await h.engine.reserve('dev', at('2026-06-01T19:00Z'), at('2026-06-01T19:45Z'), 'alice');
    // 19:00:01 is the pass the service makes as soon as the start has ended.
    for (const time of ['17:00', '18:45', '19:00', '19:00:01'])
      await h.tickAt(`2026-06-01T${time}Z`);
    expect(await h.states()).toEqual(ALL_ON);
    const warnings = h.notifier.notices.filter((n) => n.kind === 'stop-warning');
    expect(warnings.map((n) => n.text)).toEqual([
      expect.stringContaining('dev stops at 19:45 UTC'),
    ]);
    await h.tickAt('2026-06-01T19:45Z');
    expect(await h.states()).toEqual(ALL_OFF);
  });

  it('7. an ad-hoc start racing passes of two replicas is acted on, and kept for its whole hold', async () => {
    const h = await setup();
    await h.eveningStop();
    const other = h.makeEngine('replica-b');
    h.clock.set(at('2026-06-01T19:00Z'));
    const [run] = await Promise.all([
      h.engine.command('dev', 'start', 'bob'),
      other.tick(),
      h.engine.tick(),
      other.tick(),
    ]);
    await Promise.all([h.engine.idle(), other.idle()]);
    await h.tickAt('2026-06-01T19:00:01Z');
    expect(await h.states()).toEqual(ALL_ON);
    expect((await h.store.getRun(run.id))?.status).toBe('succeeded');
    for (const time of ['20:00', '23:00']) await h.tickAt(`2026-06-01T${time}Z`, other);
    expect(await h.states()).toEqual(ALL_ON);
  });

  it('8. a warning the process could not send is sent by the next pass, of any replica, once', async () => {
    const h = await setup();
    const dying = h.makeEngine('replica-a', undefined, { notifier: new FailingNotifier() });
    await h.tickAt('2026-06-01T17:00Z', dying);
    await h.tickAt('2026-06-01T17:45Z', dying);
    expect(h.notifier.notices).toEqual([]);
    const other = h.makeEngine('replica-b');
    await h.tickAt('2026-06-01T17:45:40Z', other);
    await h.tickAt('2026-06-01T17:50Z', other);
    const warnings = h.notifier.notices.filter((n: Notice) => n.kind === 'stop-warning');
    expect(warnings.map((n) => n.text)).toEqual([
      expect.stringContaining('dev stops at 18:00 UTC'),
    ]);
    expect((await h.events('notice.sent')).map((e) => e.payload)).toEqual([
      { notice: 'stop-warning', attempt: 2 },
    ]);
    await h.tickAt('2026-06-01T18:00Z', other);
    expect(await h.states()).toEqual(ALL_OFF);
  });

  it('9a. a replica paused mid-act that lost its lease writes nothing more: the database is stopped once, one summary', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    const run = await h.asOf('2026-06-01T17:30Z', () => h.engine.command('dev', 'stop', 'jo', 0));
    const paused = h.makeEngine('replica-a');
    const act = h.sandbox.act.bind(h.sandbox);
    h.sandbox.act = async (resources, target) => {
      const outcomes = await act(resources, target);
      // While replica-a waits on the provider, its lease expires and replica-b takes the run.
      h.sandbox.act = act;
      await h.store.db
        .updateTable('runs')
        .set({ lease_until: 0 })
        .where('id', '=', run.id)
        .execute();
      expect(await h.store.claimRun(run.id, 'replica-b', 60_000, h.clock.now())).toBeDefined();
      return outcomes;
    };
    await h.tickAt('2026-06-01T17:30Z', paused);
    expect((await h.store.getRun(run.id))?.status).toBe('acting');
    await h.tickAt('2026-06-01T17:31Z', h.makeEngine('replica-b'));
    expect(await h.states()).toEqual(ALL_OFF);
    const steps = await h.store.listSteps(run.id);
    expect(steps.map((s) => [s.resource.split(':')[2], s.status, s.attempts])).toEqual([
      ['dev-db', 'done', 1],
      ['dev-web', 'done', 1],
      ['dev-api', 'done', 1],
    ]);
    expect(await h.store.queryEvents({ kind: 'run.finished', runId: run.id })).toMatchObject({
      events: [expect.anything()],
    });
    expect(h.notifier.notices.filter((n) => n.kind === 'run-summary')).toHaveLength(1);
  });

  it('9b. leases are timed by the database: a replica whose clock runs 61 s ahead cannot take a lease renewed a second ago', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    const run = await h.asOf('2026-06-01T17:30Z', () => h.engine.command('dev', 'stop', 'jo', 0));
    expect(await h.store.claimRun(run.id, 'replica-a', 60_000, h.clock.now())).toBeDefined();
    const ahead = new VirtualClock(h.clock.now() + 61_000);
    const skewed = h.makeEngine('replica-b', undefined, { clock: ahead });
    await skewed.tick();
    await skewed.idle();
    expect(await h.store.getRun(run.id)).toMatchObject({
      status: 'grace',
      lease_owner: 'replica-a',
    });
    expect(await h.store.listSteps(run.id)).toEqual([]);
  });

  it('10. a run never acts while another run of its environment is acting; the newer one waits, then acts', async () => {
    const h = await setup();
    await h.eveningStop();
    const start = await h.asOf('2026-06-01T19:00Z', () => h.engine.command('dev', 'start', 'amy'));
    const fence = await h.store.claimRun(start.id, 'replica-b', 60_000, h.clock.now());
    await h.store.advanceRun(start.id, fence, 'acting', h.clock.now());
    const stop = await h.engine.command('dev', 'stop', 'ben', 0);
    await h.tickAt('2026-06-01T19:00Z');
    expect((await h.store.getRun(stop.id))?.status).toBe('grace');
    expect(await h.store.listSteps(stop.id)).toEqual([]);
    // replica-b dies; its lease runs out and this replica resumes the start, which is no longer wanted.
    await h.store.db
      .updateTable('runs')
      .set({ lease_until: 0 })
      .where('id', '=', start.id)
      .execute();
    await h.tickAt('2026-06-01T19:01Z');
    expect((await h.store.getRun(start.id))?.status).toBe('superseded');
    expect((await h.store.getRun(stop.id))?.status).toBe('succeeded');
    expect(await h.states()).toEqual(ALL_OFF);
  });

  it('12. a process asked to stop starts no queued run', async () => {
    store = await database.open();
    const environments = ['dev', 'qa', 'uat'].map((name) => ({
      ...dev(),
      name,
      tiers: [{ name: 'all', select: [{ provider: 'sandbox', tags: { env: name } }] }],
    }));
    const h = await harness(store, {
      schedules: [officeHours],
      environments,
      seeds: ['dev', 'qa', 'uat'].map((env) => ({
        kind: 'ec2' as const,
        name: `${env}-web`,
        tags: { env },
      })),
      start: '2026-06-01T10:00Z',
    });
    const engine: Engine = h.makeEngine('test', undefined, { concurrency: 1 });
    await h.tickAt('2026-06-01T10:00Z', engine);
    for (const name of ['dev', 'qa', 'uat']) await engine.command(name, 'stop', 'ops', 0);
    const act = h.sandbox.act.bind(h.sandbox);
    h.sandbox.act = async (resources, target) => {
      void engine.shutdown(); // SIGTERM while the first run acts
      return act(resources, target);
    };
    await h.tickAt('2026-06-01T10:01Z', engine);
    const runs = await store.listRuns({});
    expect(runs.filter((r) => r.status === 'grace')).toHaveLength(2);
    expect((await store.queryEvents({ kind: 'run.acting' })).events).toHaveLength(1);
  });

  it('13. retry attempts are counted in the store: a step is never tried more than its limit across restarts', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    h.sandbox.inject('dev-api', { kind: 'throttle', times: 100 });
    const run = await h.asOf('2026-06-01T17:30Z', () => h.engine.command('dev', 'stop', 'jo', 0));
    const dying = h.makeEngine();
    let throttled = 0;
    const act = h.sandbox.act.bind(h.sandbox);
    h.sandbox.act = async (resources, target) => {
      if (resources.some((r) => r.name === 'dev-api') && ++throttled === 2) void dying.shutdown();
      return act(resources, target);
    };
    await h.tickAt('2026-06-01T17:30Z', dying);
    await h.tickAt('2026-06-01T17:31Z', h.makeEngine());
    const api = (await h.store.listSteps(run.id)).find((s) => s.resource.endsWith('dev-api'));
    expect(api).toMatchObject({ status: 'failed', attempts: 4 });
    expect(api?.error).toMatch(/^gave up after 4 attempts/);
  });

  it('14. every transition passed while down is recorded as missed, once across replicas', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await Promise.all([
      h.tickAt('2026-06-04T12:00Z', h.makeEngine('replica-a')),
      h.tickAt('2026-06-04T12:00Z', h.makeEngine('replica-b')),
    ]);
    expect((await h.events('transition.missed')).map((e) => e.payload)).toEqual([
      { at: '2026-06-01T18:00:00.000Z', state: 'off' },
      { at: '2026-06-02T08:00:00.000Z', state: 'on' },
      { at: '2026-06-02T18:00:00.000Z', state: 'off' },
      { at: '2026-06-03T08:00:00.000Z', state: 'on' },
      { at: '2026-06-03T18:00:00.000Z', state: 'off' },
      { at: '2026-06-04T08:00:00.000Z', state: 'on' },
    ]);
  });

  it('15. a simulated clock restarted behind the last pass goes on from it, never back in time', async () => {
    const h = await setup({ environment: dev({ mode: 'enforce' }) });
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-01T18:00Z');
    const rewound = new ScaledClock(60, at('2026-06-01T14:00Z'));
    const restarted = h.makeEngine('test', undefined, { clock: rewound });
    await restarted.resumeClock();
    expect(rewound.now()).toBeGreaterThanOrEqual(at('2026-06-01T18:00Z'));
    await restarted.tick();
    await restarted.idle();
    expect(await h.events('drift.detected')).toEqual([]);
    expect(await h.states()).toEqual(ALL_OFF);
  });

  it('16. a stop that fails is retried with backoff until it succeeds', async () => {
    const h = await setup();
    h.sandbox.inject('dev-web', { kind: 'fail', reason: 'endpoint unreachable' });
    for (const time of ['17:00', '17:45', '18:00']) await h.tickAt(`2026-06-01T${time}Z`);
    expect((await h.states())['dev-web']).toBe('on');
    const retries = async () =>
      (await h.events('run.retry-scheduled')).map(
        (e) => e.payload as { failures: number; retryAt: string },
      );
    const [first] = await retries();
    expect(first?.failures).toBe(1);
    await h.tickAt(first!.retryAt);
    const [, second] = await retries();
    expect(second?.failures).toBe(2);
    // The backoff doubles: 30 s after the first failure, 60 s after the second.
    expect(Date.parse(second!.retryAt) - at(first!.retryAt)).toBeGreaterThanOrEqual(60_000);
    h.sandbox.inject('dev-web', undefined);
    await h.tickAt(second!.retryAt);
    expect(await h.states()).toEqual(ALL_OFF);
    expect((await h.runs()).map((r) => [r.trigger, r.status])).toEqual([
      ['schedule', 'failed'],
      ['retry', 'failed'],
      ['retry', 'succeeded'],
    ]);
  });

  it('17a. deployed off-hours, an environment found on is adopted and first stopped at its next transition, warned', async () => {
    const h = await setup({ start: '2026-06-01T20:00Z' });
    await h.tickAt('2026-06-01T20:00Z');
    await h.tickAt('2026-06-01T23:00Z');
    expect(await h.states()).toEqual(ALL_ON);
    expect(await h.runs()).toEqual([]);
    expect((await h.events('environment.adopted')).map((e) => e.payload.state)).toEqual(['off']);
    // Nothing is missed or due from before lightsout was there (the day's 08:00 and 18:00).
    expect(await h.events('transition.missed')).toEqual([]);
    for (const time of ['08:00', '17:45', '18:00']) await h.tickAt(`2026-06-02T${time}Z`);
    expect(await h.states()).toEqual(ALL_OFF);
    // The morning's start finds it on already; the evening's stop is warned and acts.
    expect((await h.runs()).map((r) => [r.direction, r.trigger])).toEqual([
      ['start', 'schedule'],
      ['stop', 'schedule'],
    ]);
    expect(Math.min(...(await h.runs()).map((r) => r.due_at))).toBe(at('2026-06-02T08:00Z'));
  });

  it('17b. deployed on-hours, instances stopped by hand are left alone until the next transition', async () => {
    const h = await setup({ start: '2026-06-01T10:00Z' }, [
      ...fleet().filter((s) => s.name !== 'dev-web'),
      { ...fleet()[1]!, state: 'off' },
    ]);
    await h.tickAt('2026-06-01T10:00Z');
    await h.tickAt('2026-06-01T12:00Z');
    expect(await h.states()).toEqual({ ...ALL_ON, 'dev-web': 'off' });
    for (const time of ['17:45', '18:00']) await h.tickAt(`2026-06-01T${time}Z`);
    await h.tickAt('2026-06-02T08:00Z');
    expect(await h.states()).toEqual(ALL_ON);
  });

  it('17c. in enforce mode, a target never acted on is corrected at once', async () => {
    const h = await setup({ environment: dev({ mode: 'enforce' }), start: '2026-06-01T20:00Z' });
    await h.tickAt('2026-06-01T20:00Z');
    await h.tickAt('2026-06-01T20:00:01Z');
    expect(await h.states()).toEqual(ALL_OFF);
    expect(await h.events('drift.detected')).toHaveLength(1);
  });

  // Shrunk counter-examples of the model-based test (model.test.ts), kept by name.

  it('model: an ad-hoc stop of an environment already off, left behind by a jump in time, never turns it on', async () => {
    const h = await setup({ start: '2026-06-01T06:00Z' }, fleet('off'));
    await h.tickAt('2026-06-01T06:00Z');
    await h.asOf('2026-06-01T06:37Z', () => h.engine.command('dev', 'stop', 'model', 15 * 60_000));
    // The clock jumps past the stop's instant and the hold it made: the plan now wants it on.
    await h.tickAt('2026-06-01T08:00Z');
    await h.tickAt('2026-06-01T08:00:01Z');
    expect(await h.states()).toEqual(ALL_ON);
    expect((await h.store.getApplied('dev'))?.state).toBe('on');
  });

  it('model: cancelling an ad-hoc stop that superseded a warned stop puts back the state before both', async () => {
    const h = await setup({ start: '2026-06-01T06:00Z' }, fleet('off'));
    await h.tickAt('2026-06-01T06:00Z');
    await h.engine.command('dev', 'start', 'model');
    await h.tickAt('2026-06-01T06:00:05Z');
    await h.asOf('2026-06-01T06:00:10Z', () =>
      h.engine.hold('dev', { state: 'off', until: at('2026-06-01T06:16Z') }, 'model'),
    );
    await h.tickAt('2026-06-01T06:00:10Z');
    const stop = await h.asOf('2026-06-01T06:00:20Z', () =>
      h.engine.command('dev', 'stop', 'model', 15 * 60_000),
    );
    await h.engine.cancel(stop.id, 'model');
    expect((await h.store.getApplied('dev'))?.state).toBe('on');
    await h.tickAt('2026-06-01T06:00:30Z');
    // The hold-off made through the API still wants it off: a stop is warned again.
    const [warned] = await h.store.listRuns({ environment: 'dev', status: 'grace' });
    expect(warned).toMatchObject({ direction: 'stop', trigger: 'catch-up' });
    expect(await h.states()).toEqual(ALL_ON);
  });

  it('model: a stop cancelled while a resource is reserved alone leaves every resource where its applied state says', async () => {
    const h = await setup({ start: '2026-06-01T06:00Z' }, fleet('off'));
    await h.tickAt('2026-06-01T06:00Z');
    const db = await h.idOf('dev-db');
    await h.engine.reserve(
      'dev',
      at('2026-06-01T06:00Z'),
      at('2026-06-01T06:05Z'),
      'model',
      undefined,
      db,
    );
    await h.tickAt('2026-06-01T06:00Z');
    expect((await h.states())['dev-db']).toBe('on');
    const stop = await h.asOf('2026-06-01T06:01Z', () =>
      h.engine.command('dev', 'stop', 'model', 15 * 60_000),
    );
    // The stop never acted: the reserved database is still its own, and on.
    expect((await h.store.getApplied('dev', db))?.state).toBe('on');
    await h.engine.cancel(stop.id, 'model');
    expect((await h.store.getApplied('dev', db))?.state).toBe('on');
    // The cancel keeps the environment on until its next scheduled start; the database goes with it.
    await h.tickAt('2026-06-01T06:01Z');
    expect(await h.states()).toEqual(ALL_ON);
    expect((await h.store.getApplied('dev', db))?.state).toBe('follow');
  });

  it('model: a start stopped part-way when its window ends is finished once the plan wants it again', async () => {
    const h = await setup({ start: '2026-06-01T06:00Z' }, fleet('off'));
    await h.tickAt('2026-06-01T06:00Z');
    await h.engine.reserve('dev', at('2026-06-01T07:08Z'), at('2026-06-01T07:45Z'), 'model');
    // A replica whose clock is a little behind starts it a moment before the window ends;
    // by its apps tier the window is over, and the start stops part-way.
    await h.tickAt('2026-06-01T07:44:59.999Z');
    expect(await h.states()).toEqual({ ...ALL_OFF, 'dev-db': 'on' });
    expect((await h.runs()).at(-1)?.status).toBe('superseded');
    // Off for the quarter of an hour before 08:00 is not worth a warned stop; at 08:00 the start is finished.
    await h.tickAt('2026-06-01T07:45Z');
    await h.tickAt('2026-06-01T08:00Z');
    expect(await h.states()).toEqual(ALL_ON);
    expect((await h.runs()).at(-1)).toMatchObject({ trigger: 'retry', status: 'succeeded' });
  });

  it('model: a resource reserved during a stop of its environment that was off is started after the stop, not taken for on', async () => {
    const h = await setup({ start: '2026-06-01T06:00Z' }, fleet('off'));
    await h.tickAt('2026-06-01T06:00Z');
    await h.engine.command('dev', 'stop', 'model', 5 * 60_000);
    // Its hold-off would win over any reservation: deleted, the stop stays warned.
    const [hold] = await h.store.listHolds(['dev'], at('2026-06-01T06:00Z'));
    await h.engine.deleteHold(hold!, 'model');
    const db = await h.idOf('dev-db');
    await h.engine.reserve(
      'dev',
      at('2026-06-01T06:00Z'),
      at('2026-06-01T06:30Z'),
      'model',
      undefined,
      db,
    );
    await h.tickAt('2026-06-01T06:00Z');
    // The stop acts at 06:05 and leaves the reserved database as it was (off); the pass that follows starts it.
    await h.tickAt('2026-06-01T06:05Z');
    await h.tickAt('2026-06-01T06:05:01Z');
    expect(await h.states()).toEqual({ ...ALL_OFF, 'dev-db': 'on' });
    expect((await h.store.getApplied('dev', db))?.state).toBe('on');
  });

  it('chaos: a stop cancelled after it superseded a start still on its way brings the environment on', async () => {
    const h = await setup();
    await h.eveningStop();
    const start = await h.asOf('2026-06-01T19:00Z', () => h.engine.command('dev', 'start', 'amy'));
    // Another replica acts on the start, and dies before it finished.
    const fence = await h.store.claimRun(start.id, 'replica-b', 60_000, h.clock.now());
    await h.store.advanceRun(start.id, fence, 'acting', h.clock.now());
    const stop = await h.engine.command('dev', 'stop', 'ben', 15 * 60_000);
    expect(stop.prior_reached).toBe(0);
    await h.engine.cancel(stop.id, 'ben');
    expect(await h.store.getApplied('dev')).toMatchObject({ state: 'on', failures: 1 });
    await h.store.db
      .updateTable('runs')
      .set({ lease_until: 0 })
      .where('id', '=', start.id)
      .execute();
    await h.tickAt('2026-06-01T19:01Z');
    await h.tickAt('2026-06-01T19:01:30Z');
    expect(await h.states()).toEqual(ALL_ON);
    expect(await h.store.getApplied('dev')).toMatchObject({ state: 'on', failures: 0 });
  });

  it('a change of plan wakes the reconciler when it begins within its horizon, not when it begins next week', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    let wakes = 0;
    h.engine.onChange(() => (wakes += 1));
    await h.engine.reserve('dev', at('2026-06-08T09:00Z'), at('2026-06-08T12:00Z'), 'alice');
    expect(wakes).toBe(0);
    await h.engine.reserve('dev', at('2026-06-01T17:10Z'), at('2026-06-01T19:00Z'), 'alice');
    expect(wakes).toBe(1);
  });

  it('a resource two environments select is left out by the one that did not have it, with an event naming both', async () => {
    store = await database.open();
    const qa: Environment = {
      ...dev(),
      name: 'qa',
      tiers: [{ name: 'all', select: [{ provider: 'sandbox', kinds: ['ec2'] }] }],
    };
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev(), qa],
      seeds: fleet(),
      start: '2026-06-01T17:00Z',
    });
    for (const time of ['17:00', '17:45', '18:00']) await h.tickAt(`2026-06-01T${time}Z`);
    const [claimed] = (await store.queryEvents({ kind: 'resource.claimed-twice' })).events;
    expect(claimed?.payload).toMatchObject({
      resources: ['sandbox:ec2:dev-web'],
      environments: expect.arrayContaining(['dev', 'qa']) as unknown,
    });
    const web = await store.getResource('sandbox:ec2:dev-web');
    expect(web?.environment).toBe(claimed?.environment === 'dev' ? 'qa' : 'dev');
  });
});
