/**
 * Notices delivered by replicas that share one store (a shared SQLite file, or
 * PostgreSQL), each with its own connection: a replica that dies after claiming a
 * warning, before sending it, leaves it to the other once the claim expires, and
 * the channel gets it once. Then a model: random interleavings of two replicas'
 * delivery passes, channels that accept, refuse or hang, clock advances and
 * replicas dying mid-send never deliver a notice twice to a channel.
 *
 * `LIGHTSOUT_DELIVERY_MODEL_RUNS` sets how many stories the model runs (default 15).
 *
 * Not covered, by design: a process that dies after a channel accepted a notice
 * and before recording it sends it again (at least once, docs/engine.md).
 */
import fc from 'fast-check';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { EngineContext } from '../../src/engine/context.js';
import { deliverNotices } from '../../src/engine/notices.js';
import type { Notice, Notifier } from '../../src/engine/ports.js';
import type { Channel } from '../../src/notify/channel.js';
import { ChannelNotifier } from '../../src/notify/router.js';
import { WebhookChannel } from '../../src/notify/webhook.js';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';
import { officeHours } from '../engine/fixtures.js';
import { harness, silentLog } from '../engine/harness.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import { httpReceiver } from '../support/http-receiver.js';

const dev: Environment = {
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  notify: ['hook', 'slack'],
  tiers: [{ name: 'apps', select: [{ provider: 'sandbox', tags: { env: 'dev' } }] }],
};
const seeds = [{ kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } }];

describe.each(DATABASES)('replicas delivering notices, on $name', (database) => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function twoStores(): Promise<[Store, Store]> {
    const url = database.url();
    const first = await openStore(url);
    const second = await openStore(url);
    cleanups.push(
      () => first.close(),
      () => second.close(),
    );
    return [first, second];
  }

  it('a replica that dies after claiming a warning, before sending it: the other sends it once when the claim expires', async () => {
    const hook = await httpReceiver();
    cleanups.push(hook.close);
    const [storeA, storeB] = await twoStores();
    const h = await harness(storeA, {
      schedules: [officeHours],
      environments: [{ ...dev, notify: ['hook'] }],
      seeds,
      start: '2026-06-01T17:45Z',
    });
    // Replica A takes the webhook's warning and dies before a byte leaves: its send never ends.
    let claimed!: () => void;
    const sending = new Promise<void>((resolve) => (claimed = resolve));
    const dying: Notifier = {
      send: (notice) => {
        if (notice.channel !== 'hook') return Promise.resolve();
        claimed();
        return new Promise<void>(() => undefined);
      },
    };
    const a = h.makeEngine('replica-a', undefined, { notifier: dying });
    const channels = new Map<string, Channel>([
      ['hook', new WebhookChannel({ name: 'hook', url: `${hook.url}/h`, secret: 'whsec-x' })],
    ]);
    const b = h.makeEngine('replica-b', undefined, {
      store: storeB,
      notifier: new ChannelNotifier(pino({ level: 'silent' }), channels),
    });
    h.clock.set(at('2026-06-01T17:45Z'));
    void a.tick().catch(() => undefined); // never returns: A is abandoned mid-send
    await sending;
    await a.shutdown();

    // B's passes while A's claim holds send nothing; the first after it expires sends it.
    await h.tickAt('2026-06-01T17:45:10Z', b);
    expect(hook.received).toHaveLength(0);
    await h.tickAt('2026-06-01T17:45:40Z', b);
    expect(hook.received).toHaveLength(1);
    for (const time of ['17:46', '17:50', '18:00']) await h.tickAt(`2026-06-01T${time}Z`, b);
    // One warning, then the run's report once the stop happened.
    expect(hook.received.map((r) => (JSON.parse(r.body) as { kind: string }).kind)).toEqual([
      'stop-warning',
      'run-summary',
    ]);
    const sent = (await storeB.queryEvents({ kind: 'notice.sent' })).events.map((e) => e.payload);
    expect(sent).toContainEqual({ notice: 'stop-warning', channel: 'hook', attempt: 2 });
    expect((await h.states())['dev-web']).toBe('off');
  });

  it('random interleavings of two replicas, channels that accept, refuse or hang, and deaths mid-send never deliver twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({ step: fc.constant('pass' as const), replica: fc.nat(1) }),
            fc.record({
              step: fc.constantFrom('accept' as const, 'refuse' as const),
              replica: fc.nat(1),
            }),
            fc.record({ step: fc.constant('die' as const), replica: fc.nat(1) }),
            fc.record({
              step: fc.constant('advance' as const),
              seconds: fc.integer({ min: 1, max: 60 }),
            }),
          ),
          { minLength: 5, maxLength: 30 },
        ),
        async (steps) => {
          await deliveryStory(await twoStores(), steps);
        },
      ),
      { numRuns: Number(process.env.LIGHTSOUT_DELIVERY_MODEL_RUNS ?? 15), seed: 13 },
    );
  });
});

type Step =
  | { step: 'pass' | 'accept' | 'refuse' | 'die'; replica: number }
  | { step: 'advance'; seconds: number };

/** How long the engine gives a send before counting it failed (notices.ts, SEND_TIMEOUT_MS). */
const SEND_TIMEOUT_MS = 30_000;

/** A channel the story answers by hand: each send waits until it is accepted, refused or abandoned. */
class HeldChannel implements Notifier {
  readonly waiting: { notice: Notice; since: number; settle: (error?: Error) => void }[] = [];
  private called: () => void = () => undefined;
  constructor(
    private readonly now: () => number,
    private readonly accepted: (notice: Notice) => void,
  ) {}
  send(notice: Notice): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({
        notice,
        since: this.now(),
        settle: (error) => {
          if (error === undefined) {
            this.accepted(notice);
            resolve();
          } else reject(error);
        },
      });
      this.called();
    });
  }
  /** Resolves when the next send is made. */
  nextSend(): Promise<void> {
    return new Promise((resolve) => (this.called = resolve));
  }
}

/**
 * One story: a stop warned on three channels (the log, hook, slack) by a
 * non-delivering engine, then two replicas whose delivery passes the steps
 * interleave. A step lets the replica it touches go on until it sends again or
 * its pass ends. After every step no channel has accepted a notice twice; at the
 * end, once every live send is answered and the claims expired, every notice was
 * accepted exactly once (or given up), and its row says which.
 */
async function deliveryStory([storeA, storeB]: [Store, Store], steps: readonly Step[]) {
  const h = await harness(storeA, {
    schedules: [officeHours],
    environments: [dev],
    seeds,
    start: '2026-06-01T17:45Z',
  });
  // The run and its warnings, recorded by an engine that does not deliver.
  await h.tickAt('2026-06-01T17:45Z', h.makeEngine('planner', undefined, { delivers: false }));
  const accepted = new Map<string, number>();
  const accept = (notice: Notice) => {
    const key = `${notice.kind}/${notice.channel ?? ''}`;
    accepted.set(key, (accepted.get(key) ?? 0) + 1);
  };
  const stores = [storeA, storeB];
  const replica = (index: number) => {
    const channel = new HeldChannel(() => h.clock.now(), accept);
    const abort = new AbortController();
    const ctx = {
      store: stores[index]!,
      clock: h.clock,
      log: silentLog,
      notifier: channel,
      signal: abort.signal,
    } as unknown as EngineContext;
    return { ctx, channel, abort, pass: undefined as Promise<void> | undefined };
  };
  const replicas = [replica(0), replica(1)];
  /** Lets a replica go on until it sends again or its pass ends. */
  const settle = async (r: (typeof replicas)[number], next: Promise<void>) => {
    if (r.pass !== undefined) await Promise.race([r.pass, next]);
  };
  const start = async (index: number) => {
    const r = replicas[index]!;
    if (r.pass !== undefined) return;
    const next = r.channel.nextSend();
    r.pass = deliverNotices(r.ctx, h.clock.now()).finally(() => {
      r.pass = undefined;
    });
    await settle(r, next);
  };
  const answer = async (index: number, error?: Error) => {
    const r = replicas[index]!;
    const send = r.channel.waiting.shift();
    if (send === undefined) return;
    const next = r.channel.nextSend();
    send.settle(error);
    await settle(r, next);
  };
  for (const step of steps) {
    if (step.step === 'advance') {
      h.clock.set(h.clock.now() + step.seconds * 1_000);
      // A send older than the engine's timeout has failed by now (its own timer, in real time).
      for (const [index, r] of replicas.entries())
        while (
          r.channel.waiting[0] !== undefined &&
          r.channel.waiting[0].since + SEND_TIMEOUT_MS <= h.clock.now()
        )
          await answer(index, new Error('no answer within 30 s'));
    } else if (step.step === 'pass') await start(step.replica);
    else if (step.step === 'accept') await answer(step.replica);
    else if (step.step === 'refuse')
      await answer(step.replica, new Error('503 Service Unavailable'));
    else {
      // The process dies: its sends never end, nothing of it runs again; a new process takes its place.
      replicas[step.replica]!.abort.abort();
      replicas[step.replica] = replica(step.replica);
    }
    for (const [key, count] of accepted) expect(count, key).toBeLessThanOrEqual(1);
  }
  // The end: live sends are answered, claims expire, and passes deliver what is left.
  for (let round = 0; round < 8; round++) {
    for (const [index, r] of replicas.entries()) {
      while (r.channel.waiting.length > 0) await answer(index);
      await r.pass;
    }
    h.clock.set(h.clock.now() + 5 * 60_000);
    await start(round % 2);
  }
  for (const [index, r] of replicas.entries()) {
    while (r.channel.waiting.length > 0) await answer(index);
    await r.pass;
  }
  const rows = await storeA.listNotices((await storeA.listRuns({ environment: 'dev' }))[0]!.id);
  expect(rows).toHaveLength(3);
  for (const row of rows) {
    const count = accepted.get(`${row.kind}/${row.channel}`) ?? 0;
    expect(count, row.channel).toBeLessThanOrEqual(1);
    expect(row.status, row.channel).toBe(count === 1 ? 'sent' : 'failed');
  }
}
