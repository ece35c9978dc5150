/**
 * The power ledger agrees with a replay of the event log. Random sequences of the
 * events that turn resources on and off (stops and starts that reach, fail or find
 * a resource already there; drift; databases restarting by themselves), appended
 * in random batches, some at the same millisecond, are checked against the pure
 * `offIntervals` over random windows: off time per resource and interval by
 * interval. The migration that creates the ledger fills it from an existing log.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { Interval } from '../../src/core/glossary.js';
import type { SavingsEvent } from '../../src/core/savings.js';
import { hoursOf, offIntervals } from '../../src/core/savings.js';
import { connect } from '../../src/store/db.js';
import type { Connection } from '../../src/store/db.js';
import { LATEST_MIGRATION, migrate } from '../../src/store/migrate.js';
import type { Store } from '../../src/store/store.js';
import { openStore } from '../../src/store/store.js';
import { DATABASES } from './databases.js';

const ENVIRONMENTS = ['dev', 'qa'];
const RESOURCES = ['web', 'db', 'box'];
const T0 = Date.UTC(2026, 2, 2);
const HOUR = 3_600_000;

const resourceOf = (environment: string, name: string) => `${environment}:ec2:${name}`;

/** One event that may change power, `gap` hours after the one before (0: the same instant). */
const powerEvent = fc.record({
  gap: fc.constantFrom(0, 0.5, 1, 3, 12, 30),
  environment: fc.constantFrom(...ENVIRONMENTS),
  kind: fc.constantFrom('stop', 'start', 'drift', 'restarted'),
  statuses: fc.array(fc.constantFrom('done', 'already', 'failed', 'skipped', 'omitted'), {
    minLength: RESOURCES.length,
    maxLength: RESOURCES.length,
  }),
});

type Generated = typeof powerEvent extends fc.Arbitrary<infer T> ? T : never;

function toEvents(generated: readonly Generated[]): SavingsEvent[] {
  let at = T0;
  return generated.map((g) => {
    at += g.gap * HOUR;
    const named = RESOURCES.map((name, k) => ({ name, status: g.statuses[k]! })).filter(
      (r) => r.status !== 'omitted',
    );
    const ids = named.map((r) => resourceOf(g.environment, r.name));
    if (g.kind === 'stop' || g.kind === 'start')
      return {
        at,
        kind: 'run.finished',
        environment: g.environment,
        payload: {
          direction: g.kind,
          resources: named.map((r) => ({
            resource: resourceOf(g.environment, r.name),
            status: r.status,
          })),
        },
      };
    return g.kind === 'drift'
      ? {
          at,
          kind: 'drift.detected',
          environment: g.environment,
          payload: { desired: 'off', resources: ids },
        }
      : {
          at,
          kind: 'resource.restarted-by-itself',
          environment: g.environment,
          payload: { resources: ids },
        };
  });
}

/** Splits events into consecutive batches, as the engine appends several at once. */
function batches<T>(items: readonly T[], cuts: readonly boolean[]): T[][] {
  const out: T[][] = [[]];
  items.forEach((item, k) => {
    out.at(-1)!.push(item);
    if (cuts[k % cuts.length] === true && k < items.length - 1) out.push([]);
  });
  return out.filter((b) => b.length > 0);
}

const asInputs = (events: readonly SavingsEvent[]) =>
  events.map((e) => ({
    at: e.at,
    actor: 'engine',
    kind: e.kind,
    environment: e.environment ?? undefined,
    payload: { ...e.payload },
  }));

/** What the ledger says about `window`, per resource: hours off and the off intervals. */
async function ledgerOf(store: Store, window: Interval) {
  const totals = await store.offTotals(ENVIRONMENTS, [window.start, window.end]);
  const intervals = await store.offIntervalsIn(ENVIRONMENTS, window);
  return {
    hours: Object.fromEntries(
      totals
        .map((u) => [u.resource, (u.offMs[1]! - u.offMs[0]!) / HOUR] as const)
        .filter(([, h]) => h > 0),
    ),
    intervals: Object.fromEntries(
      intervals.filter((u) => u.off.length > 0).map((u) => [u.resource, u.off]),
    ),
  };
}

/** The same, replayed from the events by the pure reference. */
function replayOf(events: readonly SavingsEvent[], window: Interval) {
  const off = [...offIntervals(events, window)].filter(([, u]) => u.off.length > 0);
  return {
    hours: Object.fromEntries(
      off.map(([r, u]) => [r, hoursOf(u.off)] as const).filter(([, h]) => h > 0),
    ),
    intervals: Object.fromEntries(off.map(([r, u]) => [r, u.off])),
  };
}

const windowOf = (events: readonly SavingsEvent[], a: number, b: number): Interval => {
  const last = events.at(-1)?.at ?? T0;
  const span = last - T0 + 48 * HOUR;
  const [from, to] = [a, b].sort((x, y) => x - y) as [number, number];
  return { start: T0 - HOUR + Math.floor(from * span), end: T0 + Math.ceil(to * span) + HOUR };
};

describe.each(DATABASES)('the power ledger on $name', (database) => {
  let store: Store | undefined;
  let connection: Connection | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await connection?.close();
    connection = undefined;
  });

  it('agrees with a replay of the event log over any window', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(powerEvent, { minLength: 1, maxLength: 25 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
        fc.array(
          fc.tuple(
            fc.double({ min: 0, max: 1, noNaN: true }),
            fc.double({ min: 0, max: 1, noNaN: true }),
          ),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        async (generated, cuts, windows) => {
          await store?.close();
          store = await database.open();
          const events = toEvents(generated);
          for (const batch of batches(events, cuts)) await store.appendEvents(asInputs(batch));
          for (const [a, b] of windows) {
            const window = windowOf(events, a, b);
            const ledger = await ledgerOf(store, window);
            const replay = replayOf(events, window);
            expect(ledger.intervals).toEqual(replay.intervals);
            expect(Object.keys(ledger.hours).sort()).toEqual(Object.keys(replay.hours).sort());
            for (const [resource, hours] of Object.entries(replay.hours))
              expect(ledger.hours[resource]).toBeCloseTo(hours, 9);
          }
        },
      ),
      { numRuns: database.name === 'sqlite' ? 60 : 15 },
    );
  }, 120_000);

  it('reopens a resource switched on and off again within one millisecond', async () => {
    store = await database.open();
    const stop = (at: number) =>
      toEvents([
        { gap: 0, environment: 'dev', kind: 'stop', statuses: ['done', 'omitted', 'omitted'] },
      ]).map((e) => ({ ...e, at }));
    const start = (at: number) =>
      toEvents([
        { gap: 0, environment: 'dev', kind: 'start', statuses: ['done', 'omitted', 'omitted'] },
      ]).map((e) => ({ ...e, at }));
    await store.appendEvents(asInputs([...stop(T0), ...start(T0 + HOUR), ...stop(T0 + HOUR)]));
    const window = { start: T0, end: T0 + 3 * HOUR };
    expect((await ledgerOf(store, window)).hours).toEqual({ [resourceOf('dev', 'web')]: 3 });
  });

  it('counts one stretch off when a resource is stopped again the millisecond it started', async () => {
    store = await database.open();
    const only: Generated['statuses'] = ['done', 'omitted', 'omitted'];
    const events = toEvents([
      { gap: 0, environment: 'dev', kind: 'stop', statuses: only },
      { gap: 3, environment: 'dev', kind: 'start', statuses: only },
      { gap: 0, environment: 'dev', kind: 'stop', statuses: only },
    ]);
    await store.appendEvents(asInputs(events));
    const window = { start: T0, end: T0 + 6 * HOUR };
    expect(await ledgerOf(store, window)).toEqual(replayOf(events, window));
    expect((await ledgerOf(store, window)).intervals).toEqual({
      [resourceOf('dev', 'web')]: [window],
    });
  });

  it('is filled from the events recorded before its migration', async () => {
    const url = database.url();
    connection = await connect(url);
    await migrate(connection, '0012_forward_cursors');
    const events = toEvents([
      { gap: 0, environment: 'dev', kind: 'stop', statuses: ['done', 'failed', 'already'] },
      { gap: 12, environment: 'dev', kind: 'start', statuses: ['done', 'omitted', 'omitted'] },
      { gap: 1, environment: 'qa', kind: 'stop', statuses: ['done', 'done', 'done'] },
      { gap: 3, environment: 'qa', kind: 'restarted', statuses: ['omitted', 'done', 'omitted'] },
    ]);
    await connection.db
      .insertInto('events')
      .values(
        asInputs(events).map((e) => ({
          at: e.at,
          actor: e.actor,
          kind: e.kind,
          environment: e.environment ?? null,
          resource: null,
          run_id: null,
          payload: JSON.stringify(e.payload),
        })),
      )
      .execute();
    await migrate(connection, LATEST_MIGRATION);
    await connection.close();
    connection = undefined;
    store = await openStore(url);
    const window = { start: T0, end: T0 + 48 * HOUR };
    const ledger = await ledgerOf(store, window);
    expect(ledger).toEqual(replayOf(events, window));
    expect(ledger.hours).toEqual({
      [resourceOf('dev', 'web')]: 12,
      [resourceOf('dev', 'box')]: 48,
      [resourceOf('qa', 'web')]: 35,
      [resourceOf('qa', 'db')]: 3,
      [resourceOf('qa', 'box')]: 35,
    });
  });
});
