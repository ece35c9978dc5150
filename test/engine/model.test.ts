/**
 * The engine's model-based test: random sequences of clock advances, holds with
 * and without `from`, reservations of the environment or of one resource (early,
 * late, backdated, deleted), cancels, ad-hoc start/stop/extend, crashes of the
 * process at random points (between any two store writes or provider calls), and
 * a second replica whose clock is skewed. After every settled pass the
 * invariants hold:
 *
 * 1. nothing acts: every run whose act instant has come has ended;
 * 2. each resource is in the state its applied state says, and the applied state
 *    is what the plan wants now (or a stop the plan keeps warned is on its way);
 * 3. no provider action is repeated within a run, and no two runs of the
 *    environment act at once;
 * 4. every run that acted ended with exactly one `run.finished`;
 * 5. every stop that acted after a grace was warned before it acted, unless a
 *    crash fell inside its grace.
 *
 * A second property runs the same sequences with starts ready by their instant
 * (ready-by.ts): the database tier takes 20 minutes to come up, so every start
 * begins 20 minutes early, and invariant 2 expects the environment on from then
 * (unless a hold keeps it off).
 *
 * One seed is one reproducible story; fast-check shrinks a failure to its
 * shortest sequence, and shrunk counter-examples become named tests in
 * changes-of-plan.test.ts. `npm run test:model` runs thousands of sequences
 * (LIGHTSOUT_MODEL_RUNS); CI runs a few hundred.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import { covers } from '../../src/core/intervals.js';
import { planFleet } from '../../src/core/planner.js';
import type { Timeline } from '../../src/core/planner.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import type { PowerState } from '../../src/core/glossary.js';
import type { Clock, Provider, Resource } from '../../src/engine/ports.js';
import { RetryPolicy } from '../../src/engine/retry.js';
import { SandboxProvider } from '../../src/providers/sandbox/sandbox.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import { officeHours } from './fixtures.js';
import { RecordingNotifier, silentLog } from './harness.js';

const MINUTE = 60_000;
const GRACE = 15 * MINUTE;
const START = at('2026-06-01T06:00Z');

const dev: Environment = {
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  graceMs: GRACE,
  tiers: [
    { name: 'data', select: [{ provider: 'sandbox', kinds: ['rds'], tags: { env: 'dev' } }] },
    {
      name: 'apps',
      select: [{ provider: 'sandbox', kinds: ['ec2', 'ecs'], tags: { env: 'dev' } }],
    },
  ],
};

const NAMES = ['dev-db', 'dev-web', 'dev-api'] as const;

/** Stands in for a process that died: every write and provider call of it fails from then on. */
class Died extends Error {
  override readonly name = 'Died';
}

/** Store methods that write: a crash may fall just before any of them. */
const WRITES = new Set([
  'atomically',
  'advanceRun',
  'ensureSteps',
  'startSteps',
  'finishStep',
  'appendEvents',
  'advanceApplied',
  'settleNotice',
  'claimNotice',
  'claimRun',
  'claimRuns',
  'insertSteps',
  'renewLeases',
  'startStepsOf',
  'recordDiscoveredOf',
  'renewLease',
  'swapValue',
  'upsertResources',
  'setLastState',
  'releaseLease',
]);

interface World {
  store: Store;
  clock: VirtualClock;
  sandbox: SandboxProvider;
  notifier: RecordingNotifier;
  /** The serving process (replica A); replaced after a crash. */
  engine: Engine;
  /** Replica B, whose clock runs `skewMs` ahead. */
  replica: Engine;
  skewMs: number;
  /** How early starts begin to be ready by their instant (0: at their instant). */
  leadMs: number;
  /** Countdown to a crash of replica A: the n-th write or provider call dies. */
  crashIn: number | undefined;
  /** Replica A died and waits to be restarted. */
  dead: boolean;
  crashes: number[];
  /** Provider actions per run and resource, and runs seen acting at the same time. */
  actions: Map<string, number>;
  overlaps: string[];
  ids: Map<string, string>;
}

async function newWorld(store: Store, skewMs: number, leadMs = 0): Promise<World> {
  const clock = new VirtualClock(START);
  const sandbox = new SandboxProvider(store.db, clock, { settleScale: 0.01 });
  // Off, as the plan wants at 06:00: adopted as it is, nothing differs from the start.
  await sandbox.seed(
    NAMES.map((name) => ({
      kind: kindOf(name),
      name,
      tags: { env: 'dev' },
      state: 'off' as const,
    })),
  );
  await store.syncConfig(
    {
      environments: [
        { name: 'dev', team: null, timezone: 'UTC', schedule: 'office-hours', definition: dev },
      ],
      reservations: [],
      holds: [],
    },
    clock.now(),
  );
  const found = await sandbox.discover({ provider: 'sandbox' });
  const ids = new Map(found.map((r) => [r.name, r.id] as const));
  // What an earlier run discovered: what starts are planned from.
  await store.upsertResources('dev', found, clock.now());
  const world = {
    store,
    clock,
    sandbox,
    notifier: new RecordingNotifier(),
    skewMs,
    leadMs,
    crashIn: undefined,
    dead: false,
    crashes: [],
    actions: new Map(),
    overlaps: [],
    ids,
  } as unknown as World;
  world.engine = engineFor(world, 'replica-a', clock);
  world.replica = engineFor(world, 'replica-b', {
    now: () => clock.now() + skewMs,
    sleep: (ms) => clock.sleep(ms),
  });
  return world;
}

function kindOf(name: string): 'rds' | 'ec2' | 'ecs' {
  return name === 'dev-db' ? 'rds' : name === 'dev-web' ? 'ec2' : 'ecs';
}

/** An engine whose store writes and provider calls may die (replica A), or never do (B). */
function engineFor(world: World, owner: string, clock: Clock): Engine {
  const mortal = owner === 'replica-a';
  let dead = false;
  const fate = () => {
    if (dead) throw new Died('this process died');
    if (!mortal || world.crashIn === undefined) return;
    world.crashIn -= 1;
    if (world.crashIn > 0) return;
    world.crashIn = undefined;
    dead = true;
    world.dead = true;
    world.crashes.push(world.clock.now());
    throw new Died('this process died');
  };
  const store = new Proxy(world.store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof property !== 'string' || !WRITES.has(property) || typeof value !== 'function')
        return value;
      return (...args: unknown[]) => {
        fate();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const sandbox = world.sandbox;
  const provider: Provider = {
    name: 'sandbox',
    restartsByItself: sandbox.restartsByItself,
    discover: (selector) => sandbox.discover(selector),
    observe: (resources) => sandbox.observe(resources),
    settleTimeoutMs: (kind) => sandbox.settleTimeoutMs(kind),
    // The database takes `leadMs` to come up: starts begin that early.
    ...(world.leadMs === 0
      ? {}
      : {
          actCost: (resources: readonly Resource[]) => ({
            takes: [],
            settleMs: resources.some((r) => r.kind === 'rds') ? world.leadMs : 0,
          }),
        }),
    act: async (resources: readonly Resource[], target: PowerState) => {
      fate();
      const acting = await world.store.listRuns({ environment: 'dev', status: 'acting' });
      if (acting.length !== 1) world.overlaps.push(acting.map((r) => r.id).join(',') || 'none');
      for (const run of acting)
        for (const r of resources) {
          const key = `${run.id} ${r.name}`;
          world.actions.set(key, (world.actions.get(key) ?? 0) + 1);
        }
      const outcomes = await sandbox.act(resources, target);
      fate(); // dying right after the provider answered, before the outcome is recorded
      return outcomes;
    },
  };
  return new Engine({
    store,
    providers: new Map([['sandbox', provider]]),
    clock,
    notifier: world.notifier,
    log: silentLog,
    schedules: new Map([[officeHours.name, officeHours]]),
    environments: [dev],
    owner,
    pollMs: 1_000,
    retry: new RetryPolicy(3, 100, 1_000, () => 0.5),
  });
}

/** A pass of `engine` at the current instant; a process that died is replaced, as its supervisor would. */
async function pass(world: World, engine = world.engine): Promise<void> {
  try {
    await engine.tick();
  } catch (error) {
    if (!(error instanceof Died)) throw error;
  }
  await engine.idle();
}

/** The process comes back with the same replica id: it resumes its runs at once. */
function restartIfDead(world: World): void {
  if (!world.dead) return;
  world.dead = false;
  world.engine = engineFor(world, 'replica-a', world.clock);
}

/**
 * Passes of replica A at the current instant until one changes nothing and nothing
 * is due, as the service passes again whenever a run ends or the plan changes.
 */
async function settle(world: World): Promise<void> {
  for (let i = 0; i < 8; i++) {
    restartIfDead(world);
    const before = await eventCount(world.store);
    await pass(world);
    if (world.dead) continue;
    const due = (await world.store.dueRuns(world.clock.now(), 'nobody')).length;
    if (due === 0 && (await eventCount(world.store)) === before) return;
  }
}

async function eventCount(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

type Step =
  | { kind: 'advance'; ms: number }
  | { kind: 'replica' }
  | { kind: 'hold'; state: 'on' | 'off'; fromMs: number | undefined; forMs: number }
  | { kind: 'reserve'; resource: (typeof NAMES)[number] | undefined; fromMs: number; forMs: number }
  | { kind: 'delete-hold'; index: number }
  | { kind: 'delete-reservation'; index: number }
  | { kind: 'cancel' }
  | { kind: 'command'; direction: 'start' | 'stop'; graceMs: number }
  | { kind: 'extend'; forMs: number }
  | { kind: 'crash'; after: number };

const minutes = (min: number, max: number) => fc.integer({ min, max }).map((m) => m * MINUTE);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: minutes(1, 90).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: minutes(120, 60 * 30).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'replica' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('hold' as const),
      state: fc.constantFrom('on' as const, 'off' as const),
      fromMs: fc.option(minutes(-60, 120), { nil: undefined }),
      forMs: minutes(5, 600),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      resource: fc.option(fc.constantFrom(...NAMES), { nil: undefined }),
      fromMs: minutes(-120, 240),
      forMs: minutes(5, 600),
    }),
  },
  { weight: 1, arbitrary: fc.nat(5).map((index) => ({ kind: 'delete-hold' as const, index })) },
  {
    weight: 1,
    arbitrary: fc.nat(5).map((index) => ({ kind: 'delete-reservation' as const, index })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancel' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('command' as const),
      direction: fc.constantFrom('start' as const, 'stop' as const),
      graceMs: fc.constantFrom(0, 5 * MINUTE, GRACE),
    }),
  },
  { weight: 1, arbitrary: minutes(10, 300).map((forMs) => ({ kind: 'extend' as const, forMs })) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 1, max: 12 }).map((after) => ({ kind: 'crash' as const, after })),
  },
);

/** Carries out one step as a person, the clock or a failure would; refusals (a hold in the past) are fine. */
async function perform(world: World, s: Step): Promise<void> {
  const now = world.clock.now();
  const engine = world.engine;
  const refused = (error: unknown) => {
    if (!(error instanceof Error) || !['CommandError', 'Died'].includes(error.name)) throw error;
  };
  switch (s.kind) {
    case 'advance':
      world.clock.set(now + s.ms);
      return;
    case 'replica':
      await pass(world, world.replica);
      return;
    case 'crash':
      world.crashIn = s.after;
      return;
    case 'hold':
      await engine
        .hold(
          'dev',
          {
            state: s.state,
            from: s.fromMs === undefined ? undefined : now + s.fromMs,
            until: now + Math.max(s.fromMs ?? 0, 0) + s.forMs,
          },
          'model',
        )
        .catch(refused);
      return;
    case 'reserve':
      await engine
        .reserve(
          'dev',
          now + s.fromMs,
          now + s.fromMs + s.forMs,
          'model',
          undefined,
          s.resource === undefined ? undefined : world.ids.get(s.resource),
        )
        .catch(refused);
      return;
    case 'delete-hold': {
      const holds = (await world.store.listHolds(['dev'], now)).filter((h) => h.source === 'api');
      const hold = holds[s.index % Math.max(1, holds.length)];
      if (hold !== undefined) await engine.deleteHold(hold, 'model').catch(refused);
      return;
    }
    case 'delete-reservation': {
      const all = await world.store.listReservations({ environments: ['dev'], from: now });
      const reservation = all[s.index % Math.max(1, all.length)];
      if (reservation !== undefined)
        await engine.deleteReservation(reservation, 'model').catch(refused);
      return;
    }
    case 'cancel': {
      const [warned] = await world.store.listRuns({ environment: 'dev', status: 'grace' });
      if (warned?.direction === 'stop') await engine.cancel(warned.id, 'model').catch(refused);
      return;
    }
    case 'command':
      await engine.command('dev', s.direction, 'model', s.graceMs).catch(refused);
      return;
    case 'extend':
      await engine.extend('dev', now + s.forMs, 'model').catch(refused);
      return;
  }
}

/** The invariants, after a settled pass. */
async function check(world: World, story: string): Promise<void> {
  const { store } = world;
  const now = world.clock.now();
  const runs = await store.listRuns({ limit: 10_000 });
  const open = runs.filter((r) => r.status === 'grace' || r.status === 'acting');
  // 1. Nothing acts and nothing is overdue.
  expect(
    open.filter((r) => r.status === 'acting' || r.act_at <= now),
    story,
  ).toEqual([]);
  // 3. No action repeated within a run; never two acting runs at once.
  expect(
    [...world.actions].filter(([, n]) => n > 1),
    story,
  ).toEqual([]);
  expect(world.overlaps, story).toEqual([]);
  // 4. Every run that acted ended once.
  const finished = new Map<string, number>();
  for (const e of (await store.queryEvents({ kind: 'run.finished' }, { limit: 1000 })).events)
    finished.set(e.runId!, (finished.get(e.runId!) ?? 0) + 1);
  const acted = new Set(
    (await store.queryEvents({ kind: 'run.acting' }, { limit: 1000 })).events.map((e) => e.runId!),
  );
  for (const id of acted) expect(finished.get(id) ?? 0, `${story}\nrun ${id} ended`).toBe(1);
  // 5. Stops that waited a grace were warned before they acted (unless the process was down then).
  const sent = new Map(
    (await store.queryEvents({ kind: 'notice.sent' }, { limit: 1000 })).events
      .filter((e) => e.payload.notice === 'stop-warning')
      .map((e) => [e.runId!, e.at]),
  );
  for (const run of runs) {
    if (run.direction !== 'stop' || !acted.has(run.id) || run.act_at <= run.created_at) continue;
    const crashed = world.crashes.some((t) => t >= run.created_at && t <= run.act_at);
    if (crashed) continue;
    expect(
      sent.get(run.id),
      `${story}\nstop ${run.id} warned before ${run.act_at}`,
    ).toBeLessThanOrEqual(run.act_at);
  }
  // 2. Resources are where the applied state says, and it is what the plan wants.
  if (open.length > 0) {
    const plan = await timeline(world, now, Math.max(...open.map((r) => r.act_at)) + 1);
    for (const run of open)
      if (run.direction === 'stop' && run.target === '')
        expect(plan.stateAt(run.act_at), `${story}\nwarned stop ${run.id} still wanted`).toBe(
          'off',
        );
    return;
  }
  const applied = new Map((await store.listApplied('dev')).map((a) => [a.resource, a]));
  const environment = applied.get('');
  if (environment === undefined) return;
  const plan = await timeline(world, now, now + GRACE + world.leadMs + 1);
  const desired = desiredAt(plan, now, world.leadMs);
  // A stop warned now would act when the plan (or an early start) wants it on again: left out.
  const keptByShortWindow =
    desired === 'off' && desiredAt(plan, now + GRACE, world.leadMs) === 'on';
  if (!keptByShortWindow && environment.failures === 0)
    expect(environment.state, `${story}\napplied state of dev`).toBe(desired);
  const observed = await world.sandbox.observe(
    await world.sandbox.discover({ provider: 'sandbox' }),
  );
  for (const name of NAMES) {
    const id = world.ids.get(name)!;
    const own = applied.get(id);
    const expected = own === undefined || own.state === 'follow' ? environment.state : own.state;
    if (own === undefined || own.state === 'follow') {
      if (environment.failures > 0) continue;
    } else if (own.failures > 0) continue;
    const ownDesired = covers(plan.onOf(id), now) ? 'on' : 'off';
    expect(observed.get(id), `${story}\n${name} is ${expected}`).toBe(expected);
    if (
      own !== undefined &&
      own.state !== 'follow' &&
      !(ownDesired === 'off' && covers(plan.onOf(id), now + GRACE))
    )
      expect(own.state, `${story}\napplied state of ${name}`).toBe(ownDesired);
  }
}

/** The plan now, with a start that must begin by now to be ready by its instant counted on. */
function desiredAt(plan: Timeline, now: number, leadMs: number): 'on' | 'off' {
  if (plan.stateAt(now) === 'on') return 'on';
  if (leadMs === 0 || plan.heldOffAt(now)) return 'off';
  const next = plan.plan().transitions.find((t) => t.state === 'on' && t.at > now);
  return next !== undefined && next.at - leadMs <= now ? 'on' : 'off';
}

async function timeline(world: World, from: number, until: number) {
  const { reservations, holds } = await world.store.activePlans(from, { until });
  const fleet = {
    schedules: new Map([[officeHours.name, officeHours]]),
    environments: [dev],
    reservations,
    holds,
  };
  return planFleet(fleet, { start: from, end: until }).get('dev')!;
}

const RUNS = Number(process.env.LIGHTSOUT_MODEL_RUNS ?? 0);

/** Counter-examples the property found, as fast-check shrunk them: each a named story. */
const REGRESSIONS: { name: string; steps: Step[]; skewMs: number; leadMs?: number }[] = [
  {
    // 3,000-run search, 2026-12-01: the watch for databases that start by themselves took
    // dev-db, whose reservation was deleted but whose own applied state was still on,
    // for a restart and stopped it behind its applied state's back.
    name: 'a resource whose reservation was deleted keeps its own plan: the restart watch leaves it alone',
    skewMs: 0,
    steps: [
      { kind: 'advance', ms: 38_160_000 },
      { kind: 'advance', ms: 4_140_000 },
      { kind: 'advance', ms: 900_000 },
      { kind: 'reserve', resource: 'dev-db', fromMs: 0, forMs: 300_000 },
      { kind: 'delete-reservation', index: 0 },
      { kind: 'crash', after: 2 },
      { kind: 'hold', state: 'on', fromMs: 60_000, forMs: 900_000 },
      { kind: 'cancel' },
      { kind: 'command', direction: 'start', graceMs: 0 },
      { kind: 'advance', ms: 60_000 },
      { kind: 'advance', ms: 7_200_000 },
    ],
  },
  {
    // Lead-time search, 2026-12-01: a stop missed while lightsout was down (a keep-on
    // ended at 06:32) is not warned at 07:25, because it would act at 07:40, when the
    // start for 08:00 must begin: the environment stays on.
    name: 'a stop that would act after the next early start begins is left out',
    skewMs: 0,
    leadMs: 20 * MINUTE,
    steps: [
      { kind: 'advance', ms: 960_000 },
      { kind: 'extend', forMs: 960_000 },
      { kind: 'advance', ms: 4_140_000 },
      { kind: 'delete-hold', index: 0 },
      { kind: 'advance', ms: 60_000 },
      { kind: 'extend', forMs: 600_000 },
      { kind: 'advance', ms: 60_000 },
    ],
  },
  {
    // Clean-clone CI, 2026-12-01: the plan cache cut timelines without their hold-offs,
    // so a start planned for the end of a hold-off began 20 minutes early inside it.
    name: 'no early start inside a hold-off, also from a timeline kept from the last pass',
    skewMs: 0,
    leadMs: 20 * MINUTE,
    steps: [
      { kind: 'hold', state: 'on', fromMs: undefined, forMs: 960_000 },
      { kind: 'hold', state: 'off', fromMs: 960_000, forMs: 7_200_000 },
      { kind: 'advance', ms: 7_200_000 },
      { kind: 'cancel' },
      { kind: 'hold', state: 'on', fromMs: undefined, forMs: 300_000 },
      { kind: 'hold', state: 'on', fromMs: undefined, forMs: 300_000 },
    ],
  },
];

describe.each(DATABASES)('the engine as a model, on $name', (database) => {
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
  });

  /** One sequence from a fresh store, the invariants checked after every step. */
  const story = async (steps: readonly Step[], skewMs: number, leadMs: number) => {
    const store = await database.open();
    stores.push(store);
    const world = await newWorld(store, skewMs, leadMs);
    await settle(world);
    const done: Step[] = [];
    for (const s of steps) {
      done.push(s);
      await perform(world, s);
      await settle(world);
      await check(world, `lead ${leadMs} ms, skew ${skewMs} ms, steps ${JSON.stringify(done)}`);
    }
    return { store, world };
  };

  it.each(REGRESSIONS)('regression: $name', async ({ steps, skewMs, leadMs }) => {
    await story(steps, skewMs, leadMs ?? 0);
  });

  const property = async (leadMs: number, numRuns: number) => {
    /** What the sequences exercised, so the test cannot pass by doing nothing. */
    const seen = { acted: 0, crashes: 0, superseded: 0, reserved: 0, warned: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 5, maxLength: 40 }),
        fc.integer({ min: -30_000, max: 30_000 }),
        async (steps, skewMs) => {
          const { store, world } = await story(steps, skewMs, leadMs);
          const runs = await store.listRuns({ limit: 10_000 });
          seen.acted += runs.filter((r) => r.status === 'succeeded').length;
          seen.superseded += runs.filter((r) => r.status === 'superseded').length;
          seen.reserved += runs.filter((r) => r.trigger === 'reservation').length;
          seen.warned += (await store.queryEvents({ kind: 'notice.sent' })).events.length;
          seen.crashes += world.crashes.length;
          await store.close();
          stores.splice(stores.indexOf(store), 1);
        },
      ),
      { numRuns, ...(RUNS > 0 ? {} : { interruptAfterTimeLimit: 240_000 }) },
    );
    expect(
      Object.values(seen).every((n) => n > 0),
      JSON.stringify(seen),
    ).toBe(true);
  };

  it(
    'keeps its invariants through random plans, crashes and a skewed replica',
    () => property(0, RUNS > 0 ? RUNS : database.name === 'sqlite' ? 300 : 100),
    (RUNS > 0 ? 60 : 10) * 60_000,
  );

  it(
    'keeps them with starts that begin early to be ready by their instant',
    () =>
      property(20 * MINUTE, RUNS > 0 ? Math.ceil(RUNS / 3) : database.name === 'sqlite' ? 100 : 40),
    (RUNS > 0 ? 30 : 5) * 60_000,
  );
});
