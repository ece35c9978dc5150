/**
 * One loop per destination, beside the reconciler and never in its way: woken
 * when something changed (this engine's changes, other replicas' announcements)
 * and every TICK_MS in any case (events are also recorded between changes of
 * plan). A destination that refuses waits (a backoff; a minute for a permanent
 * refusal) and says so in the log once a minute at most; the others go on.
 */
import type { Logger } from 'pino';
import { backoffMs, FAULT_REPEAT_MS, pause } from '../app/store-faults.js';
import type { Forwarder, StepOutcome } from './forwarder.js';

/** Events recorded with no announcement are forwarded within this. */
export const TICK_MS = 5_000;
/** A permanent refusal (access denied, no such bus) is tried again after this. */
export const PERMANENT_RETRY_MS = 60_000;

export interface Forwarding {
  /** Something may have been recorded: look now. */
  wake(): void;
  /** Ends every loop after its current step. */
  stop(): Promise<void>;
}

export function startForwarding(
  forwarders: readonly Forwarder[],
  log: Pick<Logger, 'warn' | 'info'>,
  tickMs: number = TICK_MS,
): Forwarding {
  const state = { stopping: false };
  /** Read through a function: the flag changes while a loop awaits. */
  const stopping = () => state.stopping;
  const stopped = new AbortController();
  const wakers = new Set<AbortController>();
  const loops = forwarders.map(async (forwarder) => {
    const trouble = new TroubleLog(log, forwarder.key);
    let failures = 0;
    while (!stopping()) {
      const waker = new AbortController();
      wakers.add(waker);
      let outcome: StepOutcome;
      try {
        outcome = await forwarder.step();
      } catch (error) {
        // The store is away: the reconciler's fault log says so; this waits and tries again.
        outcome = {
          status: 'failed',
          retry: 'transient',
          code: 'Store',
          message: error instanceof Error ? error.message : String(error),
        };
      }
      if (stopping()) break;
      if (outcome.status === 'failed') {
        wakers.delete(waker);
        failures += 1;
        trouble.failed(outcome.message);
        // A refused destination is not woken by every change: it waits its turn.
        await pause(
          outcome.retry === 'permanent' ? PERMANENT_RETRY_MS : backoffMs(failures),
          stopped.signal,
        );
        continue;
      }
      failures = 0;
      trouble.recovered();
      if (outcome.status === 'sent' && outcome.more) {
        wakers.delete(waker);
        continue;
      }
      // A wake during the step ended this wait before it began: nothing recorded meanwhile is missed.
      await pause(tickMs, AbortSignal.any([waker.signal, stopped.signal]));
      wakers.delete(waker);
    }
  });
  return {
    wake() {
      for (const waker of wakers) waker.abort();
      wakers.clear();
    },
    async stop() {
      state.stopping = true;
      stopped.abort();
      await Promise.all(loops);
      // Another replica takes over at once rather than after the lease.
      await Promise.all(forwarders.map((f) => f.release().catch(() => undefined)));
    },
  };
}

/** A destination's refusals in the log: the first at once, then once a minute at most. */
class TroubleLog {
  private since: number | undefined;
  private logged = 0;
  private repeats = 0;

  constructor(
    private readonly log: Pick<Logger, 'warn' | 'info'>,
    private readonly destination: string,
  ) {}

  failed(message: string): void {
    const now = Date.now();
    this.since ??= now;
    if (now - this.logged < FAULT_REPEAT_MS) {
      this.repeats += 1;
      return;
    }
    this.log.warn(
      { destination: this.destination, error: message, repeats: this.repeats },
      'forwarding events failed; the events wait and are sent again',
    );
    this.logged = now;
    this.repeats = 0;
  }

  recovered(): void {
    if (this.since === undefined) return;
    this.log.info(
      { destination: this.destination, seconds: Math.round((Date.now() - this.since) / 1000) },
      'forwarding events again',
    );
    this.since = undefined;
    this.logged = 0;
    this.repeats = 0;
  }
}
