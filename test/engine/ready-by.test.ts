/**
 * Ready *by* the start time (issue 16): a schedule that says "on at 07:00" means
 * running at 07:00. 5,000 instances behind a 1,000-instance start bucket (refilling
 * at 20 a second, EC2's 2 scaled up for the test) after a database tier: the start
 * begins early enough, every instance is running by 07:00, and a hold-off placed
 * while it waits for tokens stops it at the next batch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import type { ActOutcome, Provider, Resource } from '../../src/engine/ports.js';
import { RetryPolicy } from '../../src/engine/retry.js';
import { SandboxProvider } from '../../src/providers/sandbox/sandbox.js';
import type { SandboxSeed } from '../../src/providers/sandbox/sandbox.js';
import type { Store } from '../../src/store/store.js';
import { periodSchedule } from '../core/build.js';
import { DATABASES } from '../store/databases.js';
import { at } from '../helpers.js';
import { RecordingNotifier, silentLog } from './harness.js';

const INSTANCES = 5_000;
const BUCKET = { burst: 1_000, perSecond: 20 };
const SEVEN = at('2026-06-02T07:00Z');
/** The database's start (5 min), 4,000 instances beyond the burst at 20 a second, an instance's start (30 s). */
const LEAD_MS = 300_000 + 200_000 + 30_000;

const officeHours = {
  ...periodSchedule('UTC', [{ days: 'mon-fri', start: '07:00', stop: '19:00' }]),
  name: 'office-hours',
};

const fleet: Environment = {
  name: 'fleet',
  timezone: 'UTC',
  schedule: 'office-hours',
  graceMs: 0,
  tiers: [
    { name: 'data', select: [{ provider: 'sandbox', kinds: ['rds'], tags: { env: 'fleet' } }] },
    { name: 'apps', select: [{ provider: 'sandbox', kinds: ['ec2'], tags: { env: 'fleet' } }] },
  ],
};

const seeds: SandboxSeed[] = [
  { kind: 'rds', name: 'fleet-db', tags: { env: 'fleet' }, state: 'off' },
  ...Array.from({ length: INSTANCES }, (_, i) => ({
    kind: 'ec2' as const,
    name: `fleet-${i}`,
    tags: { env: 'fleet' },
    state: 'off' as const,
  })),
];

/** The sandbox, with a hook after each act call (to change the plan mid-start). */
/** Virtual time with a hook on the next sleep once armed (a wait for tokens, say). */
class HookedClock extends VirtualClock {
  onSleep: (() => Promise<void>) | undefined;
  override async sleep(ms: number): Promise<void> {
    await super.sleep(ms);
    const hook = this.onSleep;
    this.onSleep = undefined;
    await hook?.();
  }
}

class Hooked implements Provider {
  readonly name = 'sandbox';
  afterAct: (calls: number) => Promise<void> = () => Promise.resolve();
  /** Instances the sandbox accepted to start. */
  started = 0;
  private calls = 0;
  readonly actCost: NonNullable<Provider['actCost']>;
  constructor(private readonly inner: SandboxProvider) {
    this.actCost = inner.actCost!.bind(inner);
  }
  discover = (s: Parameters<Provider['discover']>[0]) => this.inner.discover(s);
  observe = (r: readonly Resource[]) => this.inner.observe(r);
  settleTimeoutMs = (kind: string) => this.inner.settleTimeoutMs(kind);
  async act(resources: readonly Resource[], target: 'on' | 'off'): Promise<ActOutcome[]> {
    const outcomes = await this.inner.act(resources, target);
    if (target === 'on')
      this.started += outcomes.filter(
        (o) => o.result === 'accepted' && o.id.includes(':ec2:'),
      ).length;
    await this.afterAct(++this.calls);
    return outcomes;
  }
}

describe.each(DATABASES)('ready by the start time on $name', { timeout: 180_000 }, (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function setup() {
    store = await database.open();
    const s = store;
    const clock = new HookedClock(at('2026-06-02T05:00Z'));
    // One call at a time: waits for tokens follow one another on the virtual clock.
    const sandbox = new SandboxProvider(s.db, clock, { concurrency: 1, startBucket: BUCKET });
    await sandbox.seed(seeds);
    await s.syncConfig(
      {
        environments: [
          {
            name: fleet.name,
            team: null,
            timezone: 'UTC',
            schedule: 'office-hours',
            definition: fleet,
          },
        ],
        reservations: [],
        holds: [],
      },
      clock.now(),
    );
    // What the last run's discovery recorded: the inventory the plan is made from.
    await s.upsertResources(
      'fleet',
      await sandbox.discover(fleet.tiers![0]!.select[0]!),
      clock.now(),
    );
    await s.upsertResources(
      'fleet',
      await sandbox.discover(fleet.tiers![1]!.select[0]!),
      clock.now(),
    );
    const provider = new Hooked(sandbox);
    const engine = new Engine({
      store: s,
      providers: new Map<string, Provider>([['sandbox', provider]]),
      clock,
      notifier: new RecordingNotifier(),
      log: silentLog,
      schedules: new Map([[officeHours.name, officeHours]]),
      environments: [fleet],
      owner: 'test',
      pollMs: 5_000,
      retry: new RetryPolicy(4, 100, 1_000, () => 0.5),
    });
    /** The serve loop on virtual time: a pass, its runs, then the next wake, until `until`. */
    const serveUntil = async (until: number) => {
      while (clock.now() < until) {
        const next = await engine.tick();
        await engine.idle();
        clock.set(Math.max(clock.now(), Math.min(next, until)));
      }
      await engine.tick();
      await engine.idle();
    };
    const instances = () =>
      s.db
        .selectFrom('sandbox_resources')
        .select(['name', 'state', 'settles_at'])
        .where('kind', '=', 'ec2')
        .execute();
    return { clock, engine, provider, serveUntil, instances, store: s };
  }

  it(`starts ${INSTANCES.toLocaleString('en-US')} instances early enough that every one runs by 07:00`, async () => {
    const h = await setup();
    let lastUp = 0;
    h.provider.afterAct = async () => {
      const rows = await h.instances();
      for (const r of rows) if (r.state === 'starting') lastUp = Math.max(lastUp, r.settles_at!);
    };
    await h.serveUntil(SEVEN);
    const runs = await h.store.listRuns({ environment: 'fleet', limit: 10 });
    expect(runs.map((r) => [r.direction, r.status])).toEqual([['start', 'succeeded']]);
    const [run] = runs;
    expect(run!.due_at).toBe(SEVEN);
    // Begun when the plan said, not at 07:00 and not an hour before.
    expect(SEVEN - run!.act_at).toBeGreaterThanOrEqual(LEAD_MS);
    expect(SEVEN - run!.act_at).toBeLessThan(LEAD_MS + 60_000);
    const rows = await h.instances();
    expect(rows.filter((r) => r.state === 'on')).toHaveLength(INSTANCES);
    // The last instance asked for came up by the instant.
    expect(lastUp).toBeGreaterThan(SEVEN - 60_000);
    expect(lastUp).toBeLessThanOrEqual(SEVEN);
    const created = (await h.store.queryEvents({ kind: 'run.created' })).events[0]!;
    expect(created.payload).toMatchObject({
      dueAt: '2026-06-02T07:00:00.000Z',
      readyBy: { waitMs: 200_000, settleMs: 330_000, tokens: INSTANCES },
    });
  });

  it('stops an early start before its next batch is sent when a hold-off comes while it waits for tokens', async () => {
    const h = await setup();
    h.provider.afterAct = (calls) => {
      // The first 1,000 instances asked for: the bucket is empty, the next batch waits.
      if (calls === 2)
        h.clock.onSleep = async () => {
          await h.engine.hold(
            'fleet',
            { state: 'off', until: at('2026-06-02T12:00Z') },
            'api:alice',
          );
        };
      return Promise.resolve();
    };
    await h.serveUntil(SEVEN);
    const [start] = (await h.store.listRuns({ environment: 'fleet', limit: 10 })).reverse();
    expect(start!.status).toBe('superseded');
    // Asked again after the wait, right before sending: not one more instance started.
    expect(h.provider.started).toBe(1_000);
    expect((await h.instances()).every((r) => r.state === 'off')).toBe(true);
  });

  it('stops an early start at its next batch when a hold-off comes between two batches', async () => {
    const h = await setup();
    h.provider.afterAct = async (calls) => {
      // After the database and the first batch of 1,000 instances.
      if (calls === 2)
        await h.engine.hold('fleet', { state: 'off', until: at('2026-06-02T12:00Z') }, 'api:alice');
    };
    await h.serveUntil(SEVEN);
    const [start, ...after] = (
      await h.store.listRuns({ environment: 'fleet', limit: 10 })
    ).reverse();
    expect(start!.status).toBe('superseded');
    const asked = (await h.store.listSteps(start!.id)).filter(
      (s) => s.tier === 1 && s.attempts > 0,
    );
    expect(asked).toHaveLength(1_000);
    expect(h.provider.started).toBe(1_000);
    // The hold-off then stops what the start had asked for (after a retry: an instance
    // still starting refuses to stop).
    expect(after.map((r) => r.direction)).not.toContain('start');
    expect(after.at(-1)!.status).toBe('succeeded');
    expect((await h.instances()).every((r) => r.state === 'off')).toBe(true);
  });

  it('never stops an environment it began starting early before the instant', async () => {
    const h = await setup();
    await h.serveUntil(SEVEN - 60_000);
    const runs = await h.store.listRuns({ environment: 'fleet', limit: 10 });
    expect(runs.map((r) => r.direction)).toEqual(['start']);
    expect((await h.store.getApplied('fleet'))?.state).toBe('on');
  });
});
