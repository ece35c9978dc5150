/**
 * Savings from a recorded fortnight, checked against figures worked out by hand
 * (in the comments): a stop that failed for one resource, a reservation in the
 * middle of the night, the weekend the clocks change in Paris, a machine started
 * by hand while off, prices from the config, and a command target nobody priced.
 */
import { describe, expect, it } from 'vitest';
import { hoursOf, offIntervals, periodStarts, savingsOf, splitAt } from '../../src/core/savings.js';

import { at, BOX, DB, fortnight, run, WEB, window } from '../support/fortnight.js';

describe('savings from a recorded fortnight', () => {
  const off = offIntervals(fortnight, window);

  it('counts the hours each resource really was off', () => {
    // web: 13 + (8 + 3) + 16 (Fri 18:00 to Sat 10:00) + 13 + 127 = 180
    // db: 13 + 3 (only after the reservation) + 60 + 13 + 127 = 216
    // build box: 13 + 11 + 60 + 13 + 127 = 224
    expect(hoursOf(off.get(WEB)!.off)).toBe(180);
    expect(hoursOf(off.get(DB)!.off)).toBe(216);
    expect(hoursOf(off.get(BOX)!.off)).toBe(224);
  });

  it('values hours at their price, and never values an unpriced resource at 0', () => {
    const rates = new Map([
      // EC2 t3.medium in Paris (price table), 2 vCPU and 4 GB: 0.00659208 kWh/h (CCF).
      [WEB, { hourly: 0.0472, priceSource: 'table', kwhPerHour: 0.00659208, kgPerKwh: 0.0511 }],
      // The config's negotiated rate for the database.
      [DB, { hourly: 0.1, priceSource: 'config' }],
    ]);
    const rows = savingsOf(off, (resource) => rates.get(resource) ?? {});
    const byResource = new Map(rows.map((r) => [r.resource, r]));
    // 180 h x 0.0472 = 8.496 USD; 180 x 0.00659208 = 1.1865744 kWh; x 0.0511 = 0.06063395... kg
    expect(byResource.get(WEB)!.money).toBeCloseTo(8.496, 10);
    expect(byResource.get(WEB)!.kwh).toBeCloseTo(1.1865744, 10);
    expect(byResource.get(WEB)!.kgCo2e).toBeCloseTo(0.0606339518, 9);
    // 216 h x 0.10 = 21.60 USD; no footprint known.
    expect(byResource.get(DB)!.money).toBeCloseTo(21.6, 10);
    expect(byResource.get(DB)!.kwh).toBeUndefined();
    // Counted in hours, listed, not valued.
    expect(byResource.get(BOX)).toMatchObject({ hoursSaved: 224, money: undefined });
  });

  it('against a baseline schedule, counts only what the baseline would have run', () => {
    // The team already switched off by hand every weekday at 20:00 UTC until 06:00 UTC, and
    // at weekends: its baseline is on weekdays 06:00-20:00 UTC.
    const baseline: { start: number; end: number }[] = [];
    for (let day = at('2026-03-23T00:00Z'); day < window.end; day += 86_400_000) {
      const weekday = new Date(day).getUTCDay();
      if (weekday !== 0 && weekday !== 6)
        baseline.push({ start: day + 6 * 3_600_000, end: day + 20 * 3_600_000 });
    }
    const rows = savingsOf(
      off,
      () => ({}),
      () => baseline,
    );
    const web = rows.find((r) => r.resource === WEB)!;
    // Mon 23: 18-20 (2) + Tue 24 06-07 (1); Tue 24: 18-20 (2) + Wed 25 after the
    // reservation, 06-07 (1); Fri 27: 18-20 (2); Mon 30: 17-20 (3), started at 06:00 on
    // Tue 31; Tue 31: 17-20 (3); Wed 1 to Fri 3 April: 14 x 3 = 42.
    expect(web.hoursOff).toBe(180);
    expect(web.hoursSaved).toBe(2 + 1 + 2 + 1 + 2 + 3 + 3 + 42);
  });

  it('splits by day in the environment zone, the short day of the clock change included', () => {
    const starts = periodStarts(window, 'Europe/Paris', 'day');
    const days = splitAt(off.get(BOX)!.off, starts);
    const hoursOn = (iso: string) => hoursOf(days.get(at(iso)) ?? []);
    // Sunday 29 March in Paris is 23 h long (00:00 CET = 23:00Z on the 28th), all of it off.
    expect(hoursOn('2026-03-28T23:00Z')).toBe(23);
    // Saturday 28 March in Paris, 00:00 CET (27th 23:00Z) to 23:00Z: 24 h off.
    expect(hoursOn('2026-03-27T23:00Z')).toBe(24);
    // The first period starts at the window, not before it.
    expect(starts[0]).toBe(window.start);
    expect(starts.at(-1)).toBe(window.end);
    const total = [...days.values()].reduce((sum, d) => sum + hoursOf(d), 0);
    expect(total).toBe(224);
  });

  it('a resource stopped before the window and never started is off all through it', () => {
    const before = offIntervals([run('2026-03-01T18:00Z', 'stop', { [BOX]: 'done' })], window);
    expect(hoursOf(before.get(BOX)!.off)).toBe(14 * 24);
  });
});
