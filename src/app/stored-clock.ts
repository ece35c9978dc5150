/**
 * A scaled clock (`demo`, `serve --speed N`) kept with its store, so that every
 * process on that store reads the same time: the serving process, a restart of
 * it, and each CLI command. Kept as rows of `engine_state` (bigint values; the
 * speed in thousandths).
 */
import type { ClockAnchor } from '../engine/clock.js';
import { ScaledClock, SystemClock, timeAt } from '../engine/clock.js';
import { LAST_PASS } from '../engine/pass.js';
import type { Clock } from '../engine/ports.js';
import type { Store } from '../store/store.js';

const PREFIX = 'clock.';
const KEYS = {
  at: 'clock.at',
  wall: 'clock.wall',
  speed: 'clock.speed_milli',
  running: 'clock.running',
} as const;

/** The stored anchor, read whole: one statement, so a process storing another meanwhile never tears it. */
export async function readClockAnchor(store: Store): Promise<ClockAnchor | undefined> {
  const values = await store.readValues([KEYS.at, KEYS.wall, KEYS.speed, KEYS.running]);
  const [at, wall, speed, running] = [KEYS.at, KEYS.wall, KEYS.speed, KEYS.running].map((key) =>
    values.get(key),
  );
  if (at === undefined || wall === undefined || speed === undefined || running === undefined)
    return undefined;
  return { at, wall, speed: speed / 1000, running: running === 1 };
}

export async function writeClockAnchor(store: Store, anchor: ClockAnchor): Promise<void> {
  await store.atomically(async (tx) => {
    await tx.writeValue(KEYS.at, anchor.at);
    await tx.writeValue(KEYS.wall, anchor.wall);
    await tx.writeValue(KEYS.speed, Math.round(anchor.speed * 1000));
    await tx.writeValue(KEYS.running, anchor.running ? 1 : 0);
  });
}

/** How a service gets its clock from its store, and leaves it there when it stops. */
export interface ClockSource {
  open(store: Store): Promise<Clock>;
  close(store: Store): Promise<void>;
}

/**
 * A clock `speed` times faster than the wall clock that goes on from the one
 * stored (or from the last pass, for a store from before clocks were stored, or
 * from the wall clock for a new store): a restart never goes back in time. While
 * the process is stopped the stored clock stands still, so a demo stopped in the
 * evening resumes where it was, and commands run meanwhile read that instant.
 */
export function storedScaledClock(speed: number, wall: () => number = Date.now): ClockSource {
  let clock: ScaledClock | undefined;
  return {
    async open(store) {
      const now = wall();
      const stored = await readClockAnchor(store);
      const lastPass = await store.readValue(LAST_PASS);
      const from = Math.max(stored === undefined ? now : timeAt(stored, now), lastPass ?? 0);
      clock = new ScaledClock(speed, from, now, wall);
      await writeClockAnchor(store, clock.anchor());
      return clock;
    },
    async close(store) {
      if (clock === undefined) return;
      const now = wall();
      await writeClockAnchor(store, {
        ...clock.anchor(),
        at: clock.now(),
        wall: now,
        running: false,
      });
    },
  };
}

/**
 * The wall clock, for a service run at real speed: a scaled clock stored by an
 * earlier `--speed` run is forgotten, so commands read the time this service does.
 */
export function wallClock(): ClockSource {
  return {
    async open(store) {
      await store.deleteValues(PREFIX);
      return new SystemClock();
    },
    close: () => Promise.resolve(),
  };
}

/** What a command on `store` reads as now: its stored scaled clock if it has one, else `wall`. */
export async function clockOfStore(store: Store, wall: () => number): Promise<() => number> {
  const anchor = await readClockAnchor(store);
  return anchor === undefined ? wall : () => timeAt(anchor, wall());
}
