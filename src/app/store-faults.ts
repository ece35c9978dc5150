/**
 * How the serving process lives through a store that is away, frozen, full or
 * read-only: one log line when the fault begins, a reminder at most once a
 * minute while it lasts, one line when it ends; and a backoff in real time (a
 * database does not come back faster under `--speed`) between retries.
 */
import type { Logger } from 'pino';
import type { StoreFault } from '../store/faults.js';

/** While a fault lasts, it is logged again at most this often. */
export const FAULT_REPEAT_MS = 60_000;

/** Retries wait 1 s, doubling to 30 s. */
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 30_000;

/**
 * The wait before retry `attempt` (1, 2, ...): half the doubled delay plus a random
 * half ("equal jitter"), so replicas that lost the database together do not all
 * come back at the same instant, and none retries sooner than half its step.
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class StoreFaultLog {
  private current:
    { fault: StoreFault; since: number; logged: number; repeats: number } | undefined;

  constructor(
    private readonly log: Pick<Logger, 'error' | 'warn' | 'info'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a fault is under way (seen and not yet recovered from). */
  get faulty(): boolean {
    return this.current !== undefined;
  }

  /** A fault seen by `where` (the reconciler, /readyz, the change watcher). */
  failed(fault: StoreFault, where: string): void {
    const now = this.now();
    const current = this.current;
    if (current === undefined || current.fault.kind !== fault.kind) {
      this.current = { fault, since: now, logged: now, repeats: 0 };
      this.log.error(
        { reason: fault.reason, where },
        `store unavailable: ${fault.reason}; not ready, retrying with backoff`,
      );
      return;
    }
    current.repeats += 1;
    if (now - current.logged < FAULT_REPEAT_MS) return;
    this.log.warn(
      {
        reason: fault.reason,
        where,
        sinceMs: now - current.since,
        failuresSinceLastLine: current.repeats,
      },
      `store still unavailable: ${fault.reason}`,
    );
    current.logged = now;
    current.repeats = 0;
  }

  /** The store answered a write (or a readiness check) again. */
  recovered(where: string): void {
    const current = this.current;
    if (current === undefined) return;
    this.current = undefined;
    this.log.info(
      { where, downMs: this.now() - current.since },
      `store available again after ${Math.round((this.now() - current.since) / 1_000)} s`,
    );
  }
}

/** Waits `ms` of real time, or less when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
