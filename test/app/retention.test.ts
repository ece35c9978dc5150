/**
 * Event retention in `serve`: every event before the cutoff is deleted, a batch at
 * a time, on both databases, and nothing after it; the loop prunes at start and
 * again each period, on the service's clock, and a store that refuses is tried
 * again later, not fatal.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PRUNE_BATCH, pruneBefore, startRetention } from '../../src/app/retention.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

describe.each(DATABASES)('pruning events on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('deletes every event before the cutoff, over several batches, and none after it', async () => {
    store = await database.open();
    const old = Array.from({ length: PRUNE_BATCH + 7 }, (_, k) => ({
      at: NOW - 500 * DAY + k,
      actor: 'jane',
      kind: 'hold.created',
      environment: 'dev',
    }));
    const recent = { at: NOW - DAY, actor: 'jane', kind: 'hold.created', environment: 'dev' };
    await store.appendEvents([...old, recent]);
    const progress: number[] = [];
    const deleted = await pruneBefore(store, NOW - 400 * DAY, (total) => progress.push(total));
    expect(deleted).toBe(PRUNE_BATCH + 7);
    expect(progress).toEqual([PRUNE_BATCH, PRUNE_BATCH + 7]);
    const left = await store.queryEvents({});
    expect(left.events.map((e) => e.at)).toEqual([recent.at]);
    expect(await pruneBefore(store, NOW - 400 * DAY)).toBe(0);
  });
});

describe('the retention loop', () => {
  it('prunes at start and each period on the service clock, and survives a refusing store', async () => {
    const cutoffs: number[] = [];
    let calls = 0;
    const store = {
      pruneEvents: (before: number) => {
        calls += 1;
        cutoffs.push(before);
        return calls === 2 ? Promise.reject(new Error('disk I/O error')) : Promise.resolve(1);
      },
    };
    const log = { info: vi.fn(), warn: vi.fn() };
    let now = NOW;
    const retention = startRetention(store, () => now++, 400 * DAY, log, 5);
    await vi.waitFor(() => {
      expect(calls).toBeGreaterThanOrEqual(3);
    });
    await retention.stop();
    expect(cutoffs[0]).toBe(NOW - 400 * DAY);
    expect(log.warn).toHaveBeenCalledWith(
      { error: 'disk I/O error' },
      'event retention failed; trying again later',
    );
    expect(log.info).toHaveBeenCalledWith(
      { deleted: 1, before: new Date(NOW - 400 * DAY).toISOString() },
      'deleted events past their retention',
    );
    const settled = calls;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls).toBe(settled);
  });
});
