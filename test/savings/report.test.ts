/**
 * The savings report over the power ledger, on both databases: the recorded
 * fortnight of test/support/fortnight.ts appended through the store gives the
 * hours worked out by hand, prices from the config, an unpriced resource listed
 * and not valued; by week (running totals looked up at each boundary) and by day
 * (intervals read and split) both add up to the total, the short day of the
 * clock change included.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { SavingsPeriod } from '../../src/core/savings.js';
import { savingsReport } from '../../src/savings/report.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';
import { at, BOX, DB, fortnight, WEB, window } from '../support/fortnight.js';

const DEV: Environment = {
  name: 'dev',
  timezone: 'Europe/Paris',
  graceMs: 0,
  tiers: [],
  savings: { resources: { 'i-0web': 0.0472, db: 0.1 } },
};

describe.each(DATABASES)('the savings report on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function report(by?: SavingsPeriod) {
    store ??= await database.open();
    if ((await store.offTotals(['dev'], [window.end])).length === 0)
      await store.appendEvents(
        fortnight.map((e) => ({ ...e, actor: 'lightsout', environment: 'dev' })),
      );
    return savingsReport(store, { window, by, environments: [DEV], schedules: new Map() });
  }

  it('counts the hours each resource really was off, and values the priced ones', async () => {
    const dev = (await report()).environments[0]!;
    const line = (id: string) => dev.resources.find((r) => r.resource === id)!;
    expect(line(WEB)).toMatchObject({ hoursOff: 180, hoursSaved: 180 });
    expect(line(WEB).money).toBeCloseTo(180 * 0.0472, 10);
    expect(line(DB)).toMatchObject({ hoursOff: 216 });
    expect(line(DB).money).toBeCloseTo(21.6, 10);
    expect(line(BOX)).toMatchObject({ hoursOff: 224, money: null });
    expect(dev.unpriced).toEqual([BOX]);
    expect(dev.hoursSaved).toBe(180 + 216 + 224);
  });

  it('by week and by day, the periods add up to the total', async () => {
    for (const by of ['week', 'day'] as const) {
      const dev = (await report(by)).environments[0]!;
      const sum = dev.periods.reduce((total, p) => total + p.hoursSaved, 0);
      expect(sum, by).toBeCloseTo(620, 9);
      expect(
        dev.periods.reduce((total, p) => total + p.money, 0),
        by,
      ).toBeCloseTo(dev.money, 9);
    }
  });

  it('by day, Sunday of the clock change in Paris is 23 hours long, all off for the two not started by hand', async () => {
    const dev = (await report('day')).environments[0]!;
    const sunday = dev.periods.find(
      (p) => p.start === new Date(at('2026-03-28T23:00Z')).toISOString(),
    );
    expect(sunday?.hoursSaved).toBe(2 * 23);
  });

  it('by week, weeks start on Monday at midnight in Paris, summer time from the 30th', async () => {
    const dev = (await report('week')).environments[0]!;
    expect(dev.periods.map((p) => p.start)).toEqual([
      new Date(window.start).toISOString(),
      '2026-03-29T22:00:00.000Z',
      '2026-04-05T22:00:00.000Z',
    ]);
  });
});
