/**
 * A store fault is told once when it begins, at most once a minute while it lasts,
 * once when it ends; retries back off from 1 s, doubling to 30 s, with jitter.
 */
import { describe, expect, it } from 'vitest';
import { backoffMs, FAULT_REPEAT_MS, StoreFaultLog } from '../../src/app/store-faults.js';
import type { StoreFault } from '../../src/store/faults.js';

const AWAY: StoreFault = { kind: 'unreachable', reason: 'the database cannot be reached' };
const FULL: StoreFault = { kind: 'full', reason: 'the disk holding the database is full' };

function recorder() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => {
    lines.push({ level, msg, fields });
  };
  return { lines, log: { error: at('error'), warn: at('warn'), info: at('info') } };
}

describe('the store fault log', () => {
  it('says a fault once, repeats it at most once a minute, and says when it ends', () => {
    const { lines, log } = recorder();
    let now = 0;
    const faults = new StoreFaultLog(log as never, () => now);
    for (let second = 0; second < 150; second += 1) {
      now = second * 1_000;
      faults.failed(AWAY, 'reconciler');
      faults.failed(AWAY, 'readiness');
    }
    faults.recovered('readiness');
    faults.recovered('reconciler');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [
        'error',
        'store unavailable: the database cannot be reached; not ready, retrying with backoff',
      ],
      ['warn', 'store still unavailable: the database cannot be reached'],
      ['warn', 'store still unavailable: the database cannot be reached'],
      ['info', 'store available again after 149 s'],
    ]);
    expect(lines[1]?.fields).toMatchObject({
      sinceMs: FAULT_REPEAT_MS,
      failuresSinceLastLine: 120,
    });
  });

  it('says a new fault at once when its kind changes', () => {
    const { lines, log } = recorder();
    const faults = new StoreFaultLog(log as never, () => 0);
    faults.failed(AWAY, 'reconciler');
    faults.failed(FULL, 'reconciler');
    expect(lines.map((l) => l.msg)).toEqual([
      'store unavailable: the database cannot be reached; not ready, retrying with backoff',
      'store unavailable: the disk holding the database is full; not ready, retrying with backoff',
    ]);
  });

  it('says nothing on recovery when nothing failed', () => {
    const { lines, log } = recorder();
    new StoreFaultLog(log as never, () => 0).recovered('reconciler');
    expect(lines).toEqual([]);
  });
});

describe('the retry backoff', () => {
  it('doubles from 1 s to 30 s, each wait between half and all of its step', () => {
    const low = [1, 2, 3, 4, 5, 6, 7, 20].map((attempt) => backoffMs(attempt, () => 0));
    const high = [1, 2, 3, 4, 5, 6, 7, 20].map((attempt) => backoffMs(attempt, () => 1));
    expect(low).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
    expect(high).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });
});
