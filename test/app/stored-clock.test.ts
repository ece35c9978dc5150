/** A demo's scaled clock kept with its store: resumed, never rewound, still while stopped. */
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PortInUseError, startService } from '../../src/app/service.js';
import { loadConfigFile } from '../../src/config/load.js';
import { openStore } from '../../src/store/store.js';
import { configFile } from '../cli/run.js';
import {
  clockOfStore,
  readClockAnchor,
  storedScaledClock,
  wallClock,
  writeClockAnchor,
} from '../../src/app/stored-clock.js';
import { serveClock } from '../../src/cli/serve.js';
import { LAST_PASS } from '../../src/engine/pass.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';
import { at } from '../helpers.js';

const WALL = at('2026-06-01T12:00Z');
const HOUR = 3_600_000;

describe.each(DATABASES)('a stored scaled clock, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('a new store starts at the wall clock and stores where it stands', async () => {
    store = await database.open();
    await storedScaledClock(60, () => WALL).open(store);
    expect(await readClockAnchor(store)).toEqual({
      at: WALL,
      wall: WALL,
      speed: 60,
      running: true,
    });
    // A command a wall-clock minute later reads an hour later.
    expect((await clockOfStore(store, () => WALL + 60_000))()).toBe(WALL + HOUR);
  });

  it('stops still, and a restart goes on from where it stopped, whatever the wall clock says', async () => {
    store = await database.open();
    await writeClockAnchor(store, { at: WALL + 48 * HOUR, wall: WALL, speed: 60, running: true });
    // Restarted two wall-clock minutes in: two demo hours on.
    let wall = WALL + 120_000;
    const stopped = storedScaledClock(60, () => wall);
    const clock = await stopped.open(store);
    expect(clock.now()).toBe(WALL + 50 * HOUR);
    wall += 60_000;
    await stopped.close(store);
    const anchor = await readClockAnchor(store);
    expect(anchor).toEqual({ at: WALL + 51 * HOUR, wall, speed: 60, running: false });
    // A command a day later reads the instant the demo stopped at.
    expect((await clockOfStore(store, () => WALL + 24 * HOUR))()).toBe(anchor!.at);
    // A restart a day later, at another speed, goes on from there.
    const restarted = storedScaledClock(120, () => WALL + 24 * HOUR);
    await restarted.open(store);
    expect(await readClockAnchor(store)).toEqual({
      at: anchor!.at,
      wall: WALL + 24 * HOUR,
      speed: 120,
      running: true,
    });
  });

  it('a store from before clocks were stored resumes from its last pass, not back in time', async () => {
    store = await database.open();
    await store.writeValue(LAST_PASS, WALL + 10 * HOUR);
    await storedScaledClock(60, () => WALL).open(store);
    expect(await readClockAnchor(store)).toMatchObject({ at: WALL + 10 * HOUR });
  });

  it('serve --speed 1 is real speed: the wall clock, not a stored clock that lags by every downtime', async () => {
    store = await database.open();
    // Stopped an hour ago at the instant it stood at then.
    await writeClockAnchor(store, {
      at: Date.now() - HOUR,
      wall: Date.now() - HOUR,
      speed: 1,
      running: false,
    });
    const before = Date.now();
    const clock = await serveClock(1).open(store);
    expect(clock.now()).toBeGreaterThanOrEqual(before);
    expect(await readClockAnchor(store)).toBeUndefined();
    // A faster clock is still kept with the store.
    await serveClock(60).open(store);
    expect(await readClockAnchor(store)).toMatchObject({ speed: 60, running: true });
  });

  it('an anchor stored while a command reads it is read whole, never half of each', async () => {
    store = await database.open();
    const before = { at: WALL + 48 * HOUR, wall: WALL, speed: 60, running: true };
    const after = { at: WALL + 51 * HOUR, wall: WALL + 3 * HOUR, speed: 120, running: false };
    await writeClockAnchor(store, before);
    const real = store;
    let stored = false;
    // The serving process stores its anchor just after the command's first read.
    const racing = new Proxy(real, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver);
        if ((name !== 'readValue' && name !== 'readValues') || typeof value !== 'function')
          return value;
        return async (...args: unknown[]) => {
          const read: unknown = await (value as (...a: unknown[]) => Promise<unknown>)(...args);
          if (!stored) {
            stored = true;
            await writeClockAnchor(real, after);
          }
          return read;
        };
      },
    });
    expect(await readClockAnchor(racing)).toEqual(before);
    expect(await readClockAnchor(store)).toEqual(after);
  });

  it('serving at real speed forgets a stored scaled clock, so commands read the wall clock', async () => {
    store = await database.open();
    await writeClockAnchor(store, { at: WALL + 48 * HOUR, wall: WALL, speed: 60, running: true });
    await wallClock().open(store);
    expect(await readClockAnchor(store)).toBeUndefined();
    expect((await clockOfStore(store, () => WALL))()).toBe(WALL);
  });
});

describe('a service that fails to start', () => {
  it('stores the clock as stopped, so demo time stands still until a start succeeds', async () => {
    const config = await loadConfigFile(
      configFile(`
timezone: UTC
environments:
  dev:
    select: { provider: sandbox, tags: { env: dev } }
`),
    );
    if (!config.ok) throw new Error('the test config is invalid');
    const db = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-clock-')), 'lightsout.db')}`;
    const stopped = { at: WALL, wall: Date.now() - HOUR, speed: 60, running: false };
    const seeded = await openStore(db);
    await writeClockAnchor(seeded, stopped);
    await seeded.close();
    const busy = createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    try {
      await expect(
        startService({
          config: config.config,
          db,
          clock: storedScaledClock(60),
          log: pino({ level: 'silent' }),
          port: (busy.address() as AddressInfo).port,
          host: '127.0.0.1',
        }),
      ).rejects.toThrow(PortInUseError);
    } finally {
      busy.close();
    }
    const reopened = await openStore(db);
    expect(await readClockAnchor(reopened)).toMatchObject({ running: false });
    expect((await readClockAnchor(reopened))!.at).toBeLessThan(WALL + 60_000);
    await reopened.close();
  });
});
