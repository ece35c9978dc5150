import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { periodSchedule } from '../core/build.js';
import { DATABASES } from '../store/databases.js';
import { harness } from './harness.js';

const officeHours = {
  ...periodSchedule('UTC', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
  name: 'office-hours',
};

const tiered = (name: string, extra: Partial<Environment> = {}): Environment => ({
  name,
  timezone: 'UTC',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  tiers: [
    { name: 'data', select: [{ provider: 'sandbox', kinds: ['rds'], tags: { env: name } }] },
    {
      name: 'apps',
      select: [{ provider: 'sandbox', kinds: ['ec2', 'asg', 'ecs'], tags: { env: name } }],
    },
  ],
  ...extra,
});

const fleetOf = (env: string) => [
  { kind: 'rds' as const, name: `${env}-db`, tags: { env } },
  { kind: 'ec2' as const, name: `${env}-web`, tags: { env } },
  { kind: 'asg' as const, name: `${env}-workers`, tags: { env }, capacity: 3 },
  { kind: 'ecs' as const, name: `${env}-api`, tags: { env } },
];

describe.each(DATABASES)('the engine on $name', (database) => {
  let store: Store | undefined;
  const open = async () => (store = await database.open());
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  // Monday 1 June 2026, everything on at 17:00.
  /** The stop warning recorded with a run, as it will be sent. */
  const warningOf = async (runId: string) => {
    const [warning] = (await store!.listNotices(runId)).filter((n) => n.kind === 'stop-warning');
    return JSON.parse(warning!.body) as Record<string, unknown>;
  };

  const setup = async (environments = [tiered('dev')], seeds = fleetOf('dev')) =>
    harness(await open(), {
      schedules: [officeHours],
      environments,
      seeds,
      start: '2026-06-01T17:00Z',
    });

  it('warns grace before a scheduled stop, stops on time, apps before data, and verifies', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z'); // first pass: desired on, nothing to catch up on... except the first run
    h.notifier.notices.length = 0;
    await h.tickAt('2026-06-01T17:44Z');
    expect(h.notifier.notices).toEqual([]);
    await h.tickAt('2026-06-01T17:45Z');
    expect(h.notifier.notices.map((n) => n.kind)).toEqual(['stop-warning']);
    expect(h.notifier.notices[0]?.text).toContain('dev stops at 18:00 UTC');
    expect(await h.states()).toMatchObject({ 'dev-db': 'on', 'dev-web': 'on' });
    await h.tickAt('2026-06-01T18:00Z');
    expect(await h.states()).toEqual({
      'dev-db': 'off',
      'dev-web': 'off',
      'dev-workers': 'off',
      'dev-api': 'off',
    });
    const [run] = await store!.listRuns({ environment: 'dev', status: 'succeeded' });
    expect(run).toMatchObject({
      direction: 'stop',
      due_at: at('2026-06-01T18:00Z'),
      trigger: 'schedule',
    });
    const steps = await store!.listSteps(run!.id);
    const startedAt = (name: string) => steps.find((s) => s.resource.endsWith(name))!.started_at!;
    expect(startedAt('dev-web')).toBeLessThan(startedAt('dev-db'));
    expect(steps.every((s) => s.status === 'done')).toBe(true);
    expect(h.notifier.notices.at(-1)).toMatchObject({
      kind: 'run-summary',
      text: 'dev: stop succeeded (4 resources)',
    });
    const inventory = await store!.listResources('dev');
    expect(inventory.map((r) => [r.name, r.lastState])).toEqual([
      ['dev-workers', 'off'],
      ['dev-web', 'off'],
      ['dev-api', 'off'],
      ['dev-db', 'off'],
    ]);
  });

  it('starts data before apps, and restores the capacity a stop saved', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-01T18:00Z');
    await h.tickAt('2026-06-02T08:00Z');
    expect(await h.states()).toEqual({
      'dev-db': 'on',
      'dev-web': 'on',
      'dev-workers': 'on',
      'dev-api': 'on',
    });
    const [run] = await store!.listRuns({ environment: 'dev', status: 'succeeded' });
    expect(run?.direction).toBe('start');
    const steps = await store!.listSteps(run!.id);
    const startedAt = (name: string) => steps.find((s) => s.resource.endsWith(name))!.started_at!;
    expect(startedAt('dev-db')).toBeLessThan(startedAt('dev-web'));
    const workers = await store!.db
      .selectFrom('sandbox_resources')
      .selectAll()
      .where('name', '=', 'dev-workers')
      .executeTakeFirstOrThrow();
    expect(workers.capacity).toBe(3);
  });

  it('keeps an environment on through overlapping reservations and stops once (the seed scenario)', async () => {
    const env: Environment = { ...tiered('demo'), schedule: undefined as never, graceMs: 0 };
    delete (env as { schedule?: string }).schedule;
    const h = harness(await open(), {
      environments: [env],
      seeds: fleetOf('demo').map((s) => ({ ...s, state: 'off' as const })),
      reservations: [
        { environment: 'demo', from: at('2026-06-01T15:00Z'), to: at('2026-06-01T18:00Z') },
        { environment: 'demo', from: at('2026-06-01T17:00Z'), to: at('2026-06-01T20:00Z') },
      ],
      start: '2026-06-01T14:00Z',
    });
    const { tickAt, states } = await h;
    for (const time of ['14:00', '15:00', '16:00', '17:00', '18:00', '19:00', '20:00', '21:00']) {
      await tickAt(`2026-06-01T${time}Z`);
      if (time === '18:00' || time === '19:00') expect((await states())['demo-web']).toBe('on');
    }
    const runs = (await store!.listRuns({ environment: 'demo' }))
      .map((r) => [r.direction, new Date(r.due_at).toISOString(), r.status])
      .reverse();
    expect(runs).toEqual([
      // The first pass adopts the environment as it is (off, as planned): no run.
      ['start', '2026-06-01T15:00:00.000Z', 'succeeded'],
      ['stop', '2026-06-01T20:00:00.000Z', 'succeeded'],
    ]);
  });

  it('never creates a second run for the same transition, across passes and replicas', async () => {
    const h = await setup();
    const other = h.makeEngine('replica-b');
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:00Z', other);
    await h.tickAt('2026-06-01T17:50Z');
    await h.tickAt('2026-06-01T17:50Z', other);
    await h.tickAt('2026-06-01T18:00Z', other);
    await h.tickAt('2026-06-01T18:00Z');
    const stops = (await store!.listRuns({ environment: 'dev' })).filter(
      (r) => r.direction === 'stop',
    );
    expect(stops).toHaveLength(1);
    expect(stops[0]?.status).toBe('succeeded');
  });

  it('isolates failures: one environment fails and halts its later tier, the other finishes', async () => {
    const h = await setup([tiered('dev'), tiered('qa')], [...fleetOf('dev'), ...fleetOf('qa')]);
    h.sandbox.inject('dev-web', { kind: 'fail', reason: 'InsufficientInstanceCapacity' });
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-02T07:00Z'); // stop both at 18:00 (after the grace)
    await h.tickAt('2026-06-02T08:00Z'); // start: data, then apps
    const [devRun] = await store!.listRuns({ environment: 'dev' });
    const [qaRun] = await store!.listRuns({ environment: 'qa' });
    expect(qaRun).toMatchObject({ direction: 'start', status: 'succeeded' });
    expect(devRun).toMatchObject({ direction: 'start', status: 'failed' });
    const summary = JSON.parse(devRun!.summary!) as {
      failures: { resource: string; status: string; error?: string }[];
    };
    expect(summary.failures).toEqual([
      {
        resource: 'sandbox:ec2:dev-web',
        tier: 'apps',
        status: 'failed',
        attempts: 1,
        durationMs: expect.any(Number) as number,
        error: 'InsufficientInstanceCapacity',
      },
    ]);
  });

  it('halts the following tiers when a tier fails, unless on_failure is continue', async () => {
    const run = async (onFailure: 'halt' | 'continue') => {
      const h = await setup([tiered('dev', { onFailure })]);
      h.sandbox.inject('dev-db', { kind: 'fail', reason: 'InvalidDBInstanceState' });
      await h.tickAt('2026-06-01T17:00Z');
      await h.tickAt('2026-06-01T17:45Z');
      await h.tickAt('2026-06-01T18:00Z');
      await h.tickAt('2026-06-02T08:00Z');
      const [latest] = await store!.listRuns({ environment: 'dev' });
      const steps = await store!.listSteps(latest!.id);
      await store!.close();
      store = undefined;
      return Object.fromEntries(
        steps.map((s) => [s.resource.split(':')[2] ?? s.resource, s.status]),
      );
    };
    expect(await run('halt')).toEqual({
      'dev-db': 'failed',
      'dev-web': 'skipped',
      'dev-workers': 'skipped',
      'dev-api': 'skipped',
    });
    expect(await run('continue')).toEqual({
      'dev-db': 'failed',
      'dev-web': 'done',
      'dev-workers': 'done',
      'dev-api': 'done',
    });
  });

  it('retries throttling with backoff and succeeds', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    h.sandbox.inject('dev-api', { kind: 'throttle', times: 2 });
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-01T18:00Z');
    const [run] = await store!.listRuns({ environment: 'dev' });
    expect(run?.status).toBe('succeeded');
    const api = (await store!.listSteps(run!.id)).find((s) => s.resource.endsWith('dev-api'));
    expect(api).toMatchObject({ status: 'done', attempts: 3 });
  });

  it('fails a resource that never reaches its state, by name', async () => {
    const h = await setup();
    h.sandbox.inject('dev-workers', { kind: 'stuck' });
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-01T18:00Z');
    const [run] = await store!.listRuns({ environment: 'dev' });
    expect(run?.status).toBe('failed');
    const workers = (await store!.listSteps(run!.id)).find((s) =>
      s.resource.endsWith('dev-workers'),
    );
    expect(workers?.error).toBe('did not reach off in time (last seen stopping)');
  });

  it('cancelling the evening stop keeps the environment on until the next evening stop', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:50Z');
    const [pending] = await store!.listRuns({ environment: 'dev', status: 'grace' });
    expect(await warningOf(pending!.id)).toMatchObject({
      keepsOnUntil: '2026-06-02T18:00:00.000Z',
    });
    const { holdUntil } = await h.engine.cancel(pending!.id, 'alice');
    expect(new Date(holdUntil).toISOString()).toBe('2026-06-02T18:00:00.000Z');
    await h.tickAt('2026-06-01T18:00Z');
    await h.tickAt('2026-06-01T23:00Z');
    expect((await h.states())['dev-web']).toBe('on');
    expect((await store!.queryEvents({ kind: 'run.cancelled' })).events[0]).toMatchObject({
      actor: 'alice',
      runId: pending!.id,
    });
    await expect(h.engine.cancel(pending!.id, 'bob')).rejects.toThrow(
      /is cancelled, not in its grace period/,
    );
    await h.tickAt('2026-06-02T17:45Z');
    await h.tickAt('2026-06-02T18:00Z');
    expect((await h.states())['dev-web']).toBe('off');
  });

  it('cancelling a daytime stop keeps the environment on until the evening stop, not the next morning', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T11:00Z');
    const run = await h.engine.command('dev', 'stop', 'bob', 10 * 60_000);
    const warning = await warningOf(run.id);
    expect(warning['keepsOnUntil']).toBe('2026-06-01T18:00:00.000Z');
    expect(warning['keepsOnUntilText']).toBe('18:00 UTC');
    const { holdUntil } = await h.engine.cancel(run.id, 'alice');
    expect(new Date(holdUntil).toISOString()).toBe('2026-06-01T18:00:00.000Z');
    await h.tickAt('2026-06-01T11:10Z');
    expect((await h.states())['dev-web']).toBe('on');
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-01T18:00Z');
    expect((await h.states())['dev-web']).toBe('off');
  });

  it('the canceller chooses until when; a time already past is refused', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T11:00Z');
    const first = await h.engine.command('dev', 'stop', 'bob', 10 * 60_000);
    await expect(h.engine.cancel(first.id, 'alice', at('2026-06-01T10:00Z'))).rejects.toThrow(
      /until 2026-06-01T10:00:00.000Z is not in the future/,
    );
    const { holdUntil } = await h.engine.cancel(first.id, 'alice', at('2026-06-01T13:00Z'));
    expect(holdUntil).toBe(at('2026-06-01T13:00Z'));
    expect((await store!.listHolds(['dev'], at('2026-06-01T11:01Z'))).map((x) => x.until)).toEqual([
      at('2026-06-01T13:00Z'),
    ]);
  });

  it('without a scheduled stop ahead, cancelling keeps the environment on an hour past the stop', async () => {
    const unscheduled = tiered('dev');
    delete (unscheduled as { schedule?: string }).schedule;
    const h = await setup([unscheduled]);
    await h.engine.extend('dev', at('2026-06-01T20:00Z'), 'carol');
    await h.tickAt('2026-06-01T17:10Z');
    const run = await h.engine.command('dev', 'stop', 'bob', 10 * 60_000);
    const { holdUntil } = await h.engine.cancel(run.id, 'alice');
    expect(holdUntil).toBe(at('2026-06-01T18:20Z'));
  });

  it('ad-hoc stop warns now and acts after the grace; extend brings it back on until then', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    const run = await h.engine.command('dev', 'stop', 'bob', 10 * 60_000);
    expect(run.act_at).toBe(at('2026-06-01T17:10Z'));
    expect(h.notifier.notices.at(-1)?.kind).toBe('stop-warning');
    await h.tickAt('2026-06-01T17:05Z');
    expect((await h.states())['dev-web']).toBe('on');
    await h.tickAt('2026-06-01T17:10Z');
    expect((await h.states())['dev-web']).toBe('off');
    await h.engine.extend('dev', at('2026-06-01T21:00Z'), 'carol');
    await h.tickAt('2026-06-01T17:11Z');
    expect((await h.states())['dev-web']).toBe('on');
    // 18:00 would stop it, but the extension holds it on until 21:00.
    await h.tickAt('2026-06-01T18:00Z');
    expect((await h.states())['dev-web']).toBe('on');
    await h.tickAt('2026-06-01T20:45Z'); // the warning, grace before the hold ends
    await h.tickAt('2026-06-01T21:00Z');
    expect((await h.states())['dev-web']).toBe('off');
    await expect(h.engine.extend('dev', at('2026-06-01T10:00Z'), 'carol')).rejects.toThrow(
      /is in the past/,
    );
    await expect(h.engine.command('prod', 'start', 'x')).rejects.toThrow(
      /there is no environment "prod"; known: dev/,
    );
  });

  it('refuses to extend over a hold-off from the config file, which would win, and says where it comes from', async () => {
    const h = await harness(await open(), {
      schedules: [officeHours],
      environments: [tiered('dev')],
      seeds: fleetOf('dev'),
      holds: [{ environment: 'dev', state: 'off', until: at('2026-06-02T06:00Z') }],
      start: '2026-06-01T17:00Z',
    });
    await expect(h.engine.extend('dev', at('2026-06-01T21:00Z'), 'carol')).rejects.toThrow(
      'dev is held off until 2026-06-02T06:00:00.000Z by config, and a hold-off wins over keeping it on; it comes from the config file: remove it there, or keep it on from 2026-06-02T06:00:00.000Z',
    );
    expect((await store!.listHolds(['dev'], h.clock.now())).map((hold) => hold.source)).toEqual([
      'config',
    ]);
    // A start would act, then the next pass would stop it again: refused the same way.
    await expect(h.engine.command('dev', 'start', 'carol')).rejects.toThrow(
      /dev is held off until 2026-06-02T06:00:00.000Z by config.*remove it there/,
    );
    expect(await store!.listRuns({ environment: 'dev' })).toEqual([]);
  });

  it('after downtime, brings each environment to its desired state once, warned, and records missed transitions', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    // The process was down from 17:00 to 20:00: the 18:00 stop was missed.
    const restarted = h.makeEngine();
    await h.tickAt('2026-06-01T20:00Z', restarted);
    // A caught-up stop is warned and waits its grace like any other.
    expect(h.notifier.notices.at(-1)?.text).toContain('dev stops at 20:15 UTC');
    expect((await h.states())['dev-web']).toBe('on');
    await h.tickAt('2026-06-01T20:15Z', restarted);
    expect((await h.states())['dev-web']).toBe('off');
    const [run] = await store!.listRuns({ environment: 'dev' });
    expect(run).toMatchObject({
      direction: 'stop',
      trigger: 'catch-up',
      status: 'succeeded',
      due_at: at('2026-06-01T18:00Z'),
    });
    const missed = await store!.queryEvents({
      kind: 'transition.missed',
      from: at('2026-06-01T20:00Z'),
    });
    expect(missed.events.map((e) => e.payload)).toEqual([
      { at: '2026-06-01T18:00:00.000Z', state: 'off' },
    ]);
    await h.tickAt('2026-06-01T20:20Z', h.makeEngine());
    expect(await store!.listRuns({ environment: 'dev' })).toHaveLength(1);
  });

  it('leaves a manual start alone in transitions mode', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-01T18:00Z');
    await h.sandbox.setStateByHand('dev-web', 'on');
    await h.tickAt('2026-06-01T22:00Z');
    expect((await h.states())['dev-web']).toBe('on');
  });

  it('corrects drift in enforce mode, and records it', async () => {
    const h = await setup([tiered('dev', { mode: 'enforce' })]);
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-01T18:00Z');
    await h.sandbox.setStateByHand('dev-web', 'on');
    await h.tickAt('2026-06-01T22:00Z');
    expect((await h.states())['dev-web']).toBe('off');
    const [run] = await store!.listRuns({ environment: 'dev' });
    expect(run).toMatchObject({ direction: 'stop', trigger: 'enforce', status: 'succeeded' });
    const [drift] = (await store!.queryEvents({ kind: 'drift.detected' })).events;
    expect(drift?.payload).toEqual({ desired: 'off', resources: ['sandbox:ec2:dev-web'] });
  });

  it("stops again a database that started by itself while off, and records it; a person's start of anything else is left alone", async () => {
    const h = await setup();
    await h.tickAt('2026-06-05T17:00Z'); // Friday
    await h.tickAt('2026-06-05T17:45Z');
    await h.tickAt('2026-06-05T18:00Z');
    expect((await h.states())['dev-db']).toBe('off');
    h.clock.set(at('2026-06-06T10:00Z'));
    await h.sandbox.setStateByHand('dev-db', 'on'); // as AWS does after 7 days stopped
    await h.sandbox.setStateByHand('dev-web', 'on'); // a person, at the console
    await h.tickAt('2026-06-06T10:05Z');
    expect(await h.states()).toMatchObject({ 'dev-db': 'off', 'dev-web': 'on' });
    const [run] = await store!.listRuns({ environment: 'dev' });
    expect(run).toMatchObject({ direction: 'stop', trigger: 'auto-restart', status: 'succeeded' });
    expect((await store!.listSteps(run!.id)).map((s) => [s.resource, s.status])).toEqual([
      ['sandbox:rds:dev-db', 'done'],
    ]);
    const [restarted] = (await store!.queryEvents({ kind: 'resource.restarted-by-itself' })).events;
    expect(restarted?.payload).toEqual({ desired: 'off', resources: ['sandbox:rds:dev-db'] });
  });

  describe('a boost', () => {
    it('scales services out, holds for its duration, then lets them scale in, and leaves the rest alone', async () => {
      const h = await setup();
      await h.tickAt('2026-06-01T10:00Z');
      const run = await h.engine.boost('dev', 30 * 60_000, 'gus');
      expect(run).toMatchObject({ direction: 'boost', until_at: at('2026-06-01T10:30Z') });
      const phases: string[] = [];
      const boost = h.sandbox.boost.bind(h.sandbox);
      h.sandbox.boost = async (resources, phase) => {
        phases.push(
          `${phase} ${h.clock.now() >= at('2026-06-01T10:30Z') ? 'after' : 'before'} 10:30 with ${JSON.stringify(await h.sandbox.capacities())}`,
        );
        return boost(resources, phase);
      };
      await h.tickAt('2026-06-01T10:00Z');
      expect(phases).toEqual([
        'begin before 10:30 with {"dev-db":1,"dev-web":1,"dev-workers":3,"dev-api":2}',
        'end after 10:30 with {"dev-db":1,"dev-web":1,"dev-workers":3,"dev-api":4}',
      ]);
      expect(await h.sandbox.capacities()).toMatchObject({ 'dev-api': 2, 'dev-workers': 3 });
      expect(await store!.getRun(run.id)).toMatchObject({ status: 'succeeded' });
      expect((await store!.listSteps(run.id)).map((s) => [s.resource, s.action, s.status])).toEqual(
        [
          ['sandbox:ecs:dev-api', 'boost', 'done'],
          ['sandbox:ecs:dev-api', 'unboost', 'done'],
        ],
      );
    });

    it('survives a restart during its hold and still ends, each phase acted once', async () => {
      const h = await setup();
      await h.tickAt('2026-06-01T10:00Z');
      await h.engine.boost('dev', 30 * 60_000, 'gus');
      const phases: string[] = [];
      const boost = h.sandbox.boost.bind(h.sandbox);
      h.sandbox.boost = async (resources, phase) => {
        phases.push(phase);
        const outcomes = await boost(resources, phase);
        // The process is told to stop mid-boost (shutdown waits for this very run, so not awaited).
        if (phase === 'begin') void h.engine.shutdown();
        return outcomes;
      };
      await h.tickAt('2026-06-01T10:00Z');
      expect(phases).toEqual(['begin']);
      await h.tickAt('2026-06-01T10:10Z', h.makeEngine());
      expect(phases).toEqual(['begin', 'end']);
      expect(await h.sandbox.capacities()).toMatchObject({ 'dev-api': 2 });
    });

    it.each([
      [
        '2026-06-01T17:45Z',
        'dev stops at 2026-06-01T18:00:00.000Z, before the boost would end at 2026-06-01T18:15:00.000Z; boost for less, or extend it first',
      ],
      ['2026-06-01T20:00Z', 'dev is off; start it before boosting it'],
    ])('is refused at %s', async (time, message) => {
      const h = await setup();
      await h.tickAt(time);
      await expect(h.engine.boost('dev', 30 * 60_000, 'gus')).rejects.toThrow(message);
      expect(
        (await store!.listRuns({ environment: 'dev' })).some((r) => r.direction === 'boost'),
      ).toBe(false);
    });

    it('is refused for an environment without services', async () => {
      const h = await setup([
        tiered('dev', {
          tiers: [
            { name: 'vm', select: [{ provider: 'sandbox', kinds: ['ec2'], tags: { env: 'dev' } }] },
          ],
        }),
      ]);
      await h.tickAt('2026-06-01T10:00Z');
      await expect(h.engine.boost('dev', 60_000, 'gus')).rejects.toThrow(
        'dev selects no resource that can be boosted; boost works on ECS services (kind ecs)',
      );
    });
  });

  it("started inside a stop's grace, it still warns and stops on time", async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:50Z');
    expect(h.notifier.notices.some((n) => n.kind === 'stop-warning')).toBe(true);
    await h.tickAt('2026-06-01T18:00Z');
    expect((await h.states())['dev-web']).toBe('off');
  });

  it('a short extension whose warning time has passed still stops at its end', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.engine.extend('dev', at('2026-06-01T18:10Z'), 'dana'); // the 18:00 stop moves to 18:10
    await h.tickAt('2026-06-01T17:58Z');
    await h.tickAt('2026-06-01T18:00Z');
    expect((await h.states())['dev-web']).toBe('on');
    await h.tickAt('2026-06-01T18:10Z');
    expect((await h.states())['dev-web']).toBe('off');
  });

  it('a reservation made after its start has passed starts the environment at the next pass', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-01T18:00Z');
    h.clock.set(at('2026-06-01T19:10Z'));
    await h.engine.reserve('dev', at('2026-06-01T19:00Z'), at('2026-06-01T21:00Z'), 'erin');
    await h.tickAt('2026-06-01T19:10Z');
    expect((await h.states())['dev-web']).toBe('on');
    const [run] = await store!.listRuns({ environment: 'dev' });
    expect(run).toMatchObject({ direction: 'start', due_at: at('2026-06-01T19:00Z') });
  });

  it('one environment whose provider fails does not stop the others being reconciled', async () => {
    const h = await setup(
      [tiered('qa', { mode: 'enforce' }), tiered('dev')],
      [...fleetOf('dev'), ...fleetOf('qa')],
    );
    await h.tickAt('2026-06-01T17:00Z');
    const discover = h.sandbox.discover.bind(h.sandbox);
    h.sandbox.discover = (selector) =>
      selector.tags?.env === 'qa'
        ? Promise.reject(new Error('AccessDenied: not authorized'))
        : discover(selector);
    await h.tickAt('2026-06-01T17:10Z');
    await h.tickAt('2026-06-01T17:45Z');
    await h.tickAt('2026-06-01T18:00Z');
    expect((await h.states())['dev-web']).toBe('off');
    const [failure] = (await store!.queryEvents({ kind: 'reconcile.failed' })).events;
    expect(failure).toMatchObject({
      environment: 'qa',
      payload: { error: 'AccessDenied: not authorized' },
    });
  });

  it('only a stop can be cancelled', async () => {
    const h = await setup();
    h.clock.set(at('2026-06-01T17:00Z'));
    const run = await h.engine.command('dev', 'start', 'fay');
    await expect(h.engine.cancel(run.id, 'fay')).rejects.toThrow(
      /is a start; only a stop can be cancelled/,
    );
  });

  it('an ad-hoc stop lasts until the next change of plan: a restart does not undo it', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T12:00Z');
    await h.engine.command('dev', 'stop', 'gus', 0);
    await h.tickAt('2026-06-01T12:00Z');
    expect((await h.states())['dev-web']).toBe('off');
    await h.tickAt('2026-06-01T13:00Z', h.makeEngine('restarted'));
    expect((await h.states())['dev-web']).toBe('off');
    await h.tickAt('2026-06-02T08:00Z', h.makeEngine('next-day'));
    expect((await h.states())['dev-web']).toBe('on');
  });

  it("extend during an ad-hoc stop's grace supersedes it; extend after it starts the environment", async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T12:00Z');
    await h.engine.command('dev', 'stop', 'hal', 10 * 60_000);
    await h.engine.extend('dev', at('2026-06-01T16:00Z'), 'ivy');
    await h.tickAt('2026-06-01T12:10Z');
    expect((await h.states())['dev-web']).toBe('on');
    expect((await store!.queryEvents({ kind: 'run.superseded' })).events).toHaveLength(1);
    await h.engine.command('dev', 'stop', 'hal', 0);
    await h.tickAt('2026-06-01T12:20Z');
    expect((await h.states())['dev-web']).toBe('off');
    await h.engine.extend('dev', at('2026-06-01T16:00Z'), 'ivy');
    await h.tickAt('2026-06-01T12:21Z');
    expect((await h.states())['dev-web']).toBe('on');
  });

  it('two replicas catching up at different instants name the same run', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T20:00:00Z', h.makeEngine('replica-a'));
    await h.tickAt('2026-06-01T20:00:05Z', h.makeEngine('replica-b'));
    const stops = (await store!.listRuns({ environment: 'dev' })).filter(
      (r) => r.direction === 'stop',
    );
    expect(stops).toHaveLength(1);
  });

  it('never acts on a run whose lease another replica holds', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    const run = await h.engine.command('dev', 'stop', 'jo', 0);
    expect(await store!.claimRun(run.id, 'another-replica', 60 * 60_000, h.clock.now())).toEqual({
      owner: 'another-replica',
      epoch: 1,
    });
    await h.tickAt('2026-06-01T17:00Z');
    expect((await store!.getRun(run.id))?.status).toBe('grace');
    expect((await store!.listSteps(run.id)).every((s) => s.attempts === 0)).toBe(true);
  });

  it('stops acting at once when another replica takes the run over mid-way', async () => {
    const h = await setup();
    await h.tickAt('2026-06-01T17:00Z');
    const run = await h.engine.command('dev', 'stop', 'jo', 0);
    // While the apps tier is being stopped, the lease expires and another replica claims the run.
    const act = h.sandbox.act.bind(h.sandbox);
    h.sandbox.act = async (resources, target) => {
      const outcomes = await act(resources, target);
      await store!.db
        .updateTable('runs')
        .set({ lease_owner: 'replica-b', lease_until: h.clock.now() + 3_600_000 })
        .where('id', '=', run.id)
        .execute();
      return outcomes;
    };
    await h.tickAt('2026-06-01T17:00Z');
    const steps = await store!.listSteps(run.id);
    expect(steps.find((s) => s.resource.endsWith('dev-db'))?.attempts).toBe(0); // left to replica-b
    expect((await store!.getRun(run.id))?.status).toBe('acting');
    expect((await store!.queryEvents({ kind: 'run.finished', runId: run.id })).events).toEqual([]);
  });

  it('says when it next needs to wake: the next notice or the safety tick', async () => {
    const h = await setup();
    expect(await h.tickAt('2026-06-01T17:00Z')).toBe(at('2026-06-01T17:00:30Z'));
    expect(await h.tickAt('2026-06-01T17:44:50Z')).toBe(at('2026-06-01T17:45Z'));
  });
});
