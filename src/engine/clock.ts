/** Clocks: the system's, one that runs N times faster (`demo --speed N`), and a virtual one for tests. */
import type { Clock } from './ports.js';

/** Sleeping machines make long timers lie; wake at least this often and re-arm. */
const MAX_TIMER_MS = 60_000;

function sleepReal(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const timer = setTimeout(done, Math.max(0, Math.min(ms, MAX_TIMER_MS)));
    function done() {
      signal?.removeEventListener('abort', done);
      clearTimeout(timer);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Sleeps until `until` on `clock`, re-arming capped timers; early wake-ups go back to sleep. */
async function sleepUntil(
  clock: Clock & { realMs(ms: number): number },
  until: number,
  signal?: AbortSignal,
): Promise<void> {
  while (signal?.aborted !== true) {
    const left = until - clock.now();
    if (left <= 0) return;
    await sleepReal(clock.realMs(left), signal);
  }
}

export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  realMs(ms: number): number {
    return ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepUntil(this, this.now() + ms, signal);
  }
}

/**
 * Where a scaled clock stands: at wall-clock instant `wall` it read `at`, and it
 * runs `speed` times faster from there (or stands still at `at` when not
 * `running`, while its process is stopped). Stored with a demo's data, so every
 * command on that store reads the same time.
 */
export interface ClockAnchor {
  readonly at: number;
  readonly wall: number;
  readonly speed: number;
  readonly running: boolean;
}

/** The time a clock anchored at `anchor` reads at wall-clock instant `wall`. */
export function timeAt(anchor: ClockAnchor, wall: number): number {
  return anchor.running ? anchor.at + Math.round((wall - anchor.wall) * anchor.speed) : anchor.at;
}

/** Time that starts at `origin` (at instant `startedAt` of the `wall` clock) and runs `speed` times faster. */
export class ScaledClock implements Clock {
  constructor(
    private readonly speed: number,
    private origin: number = Date.now(),
    private readonly startedAt: number = Date.now(),
    private readonly wall: () => number = Date.now,
  ) {
    if (!(speed >= 1)) throw new RangeError(`speed ${speed} must be 1 or more`);
  }

  /** Where this clock stands now, to store and resume from. */
  anchor(): ClockAnchor {
    return { at: this.origin, wall: this.startedAt, speed: this.speed, running: true };
  }

  /** A restarted demo goes on from where the last one got to, never back in time. */
  resumeFrom(t: number): void {
    const behind = t - this.now();
    if (behind > 0) this.origin += behind;
  }

  now(): number {
    return this.origin + Math.round((this.wall() - this.startedAt) * this.speed);
  }

  realMs(ms: number): number {
    return Math.ceil(ms / this.speed);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepUntil(this, this.now() + ms, signal);
  }
}

/**
 * Virtual time for tests: it stands still until set, and a sleep jumps it forward
 * at once, so retries, backoff and verification polls take no real time.
 */
export class VirtualClock implements Clock {
  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  set(t: number): void {
    this.t = t;
  }

  advance(ms: number): void {
    this.t += ms;
  }

  sleep(ms: number): Promise<void> {
    this.t += Math.max(0, ms);
    return Promise.resolve();
  }
}
