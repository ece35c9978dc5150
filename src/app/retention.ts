/**
 * Event retention: `serve` deletes the events older than the config's `retention`
 * (400 days by default) once an hour, a batch at a time so no transaction holds
 * the log for long and replicas' writes go on between batches. Replicas may prune
 * together: deleting what is already gone deletes nothing. Savings stay exact: the
 * power ledger (store/queries/power.ts) keeps what the deleted events said.
 */
import type { Logger } from 'pino';
import type { Store } from '../store/store.js';
import { pause } from './store-faults.js';

/** How often retention looks for events to delete. */
export const RETENTION_EVERY_MS = 3_600_000;
/** Events deleted per statement. */
export const PRUNE_BATCH = 5_000;

/** Deletes every event recorded before `before`; answers how many. */
export async function pruneBefore(
  store: Pick<Store, 'pruneEvents'>,
  before: number,
  onBatch?: (deleted: number) => void,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await store.pruneEvents(before, PRUNE_BATCH);
    total += deleted;
    if (deleted > 0) onBatch?.(total);
    if (deleted < PRUNE_BATCH) return total;
  }
}

export interface Retention {
  /** Ends the loop after its current batch. */
  stop(): Promise<void>;
}

/** Prunes now, then every `everyMs` of real time; `now` is the service's clock (events carry its time). */
export function startRetention(
  store: Pick<Store, 'pruneEvents'>,
  now: () => number,
  retentionMs: number,
  log: Pick<Logger, 'info' | 'warn'>,
  everyMs: number = RETENTION_EVERY_MS,
): Retention {
  const stopped = new AbortController();
  const loop = (async () => {
    while (!stopped.signal.aborted) {
      const before = now() - retentionMs;
      try {
        const deleted = await pruneBefore(store, before);
        if (deleted > 0)
          log.info(
            { deleted, before: new Date(before).toISOString() },
            'deleted events past their retention',
          );
      } catch (error) {
        // The store is away: the reconciler's fault log says so; retention tries next time.
        log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'event retention failed; trying again later',
        );
      }
      await pause(everyMs, stopped.signal);
    }
  })();
  return {
    stop: async () => {
      stopped.abort();
      await loop;
    },
  };
}
