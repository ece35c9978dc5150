/**
 * Token buckets in the store: a row per bucket that every replica on the database
 * takes from, so two replicas together never exceed the bucket's rate. On SQLite
 * and, with LIGHTSOUT_TEST_POSTGRES, on PostgreSQL (two stores on one database).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from './databases.js';

const RATE = { burst: 10, perSecond: 5 };

describe.each(DATABASES)('token buckets on $name', (database) => {
  const open: Store[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  /**
   * Replicas: stores of their own on one PostgreSQL database. SQLite serves one
   * process (two stores on one file in one process would block each other's
   * synchronous driver), so there the "replicas" share its one store.
   */
  async function replicas(count: number): Promise<Store[]> {
    const url = database.url();
    if (database.name === 'sqlite') {
      const store = await openStore(url);
      open.push(store);
      return Array<Store>(count).fill(store);
    }
    for (let i = 0; i < count; i++) open.push(await openStore(url));
    return [...open];
  }

  it('starts full, hands out its burst, then says how long to wait', async () => {
    const [store] = await replicas(1);
    const buckets = store!.buckets();
    const waits = [];
    for (let i = 0; i < 11; i++) waits.push(await buckets.take('b', RATE, 1, 0));
    expect(waits).toEqual([...Array<number>(10).fill(0), 200]);
    expect(await buckets.take('b', RATE, 1, 200)).toBe(0);
  });

  it('slows a bucket down after a throttled answer, for every replica', async () => {
    const [one, two] = await replicas(2);
    await one!.buckets().throttled('b', RATE, 0);
    // Empty, refilling at half the rate: one token in 400 ms, not 200.
    expect(await two!.buckets().take('b', RATE, 1, 0)).toBe(400);
  });

  it('two replicas taking from one bucket at once never exceed its rate in sum', async () => {
    const [one, two] = await replicas(2);
    let granted = 0;
    const seconds = 4;
    for (let now = 0; now <= seconds * 1000; now += 100) {
      const waits = await Promise.all(
        [one!, two!, one!, two!, one!, two!].map((s) => s.buckets().take('shared', RATE, 1, now)),
      );
      granted += waits.filter((w) => w === 0).length;
    }
    // The burst, then 5 a second: 30 in 4 s. Both replicas asked for far more (246).
    expect(granted).toBe(RATE.burst + RATE.perSecond * seconds);
  });
});
