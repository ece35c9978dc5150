/**
 * Wakes the reconciler when another process changed the plan: a `lightsout stop`
 * typed beside a running server, or a change made on another replica, acts within
 * a second instead of at the next safety tick. PostgreSQL announces changes with
 * NOTIFY (sent when the change's transaction commits); SQLite has no such channel,
 * so its cheap `PRAGMA data_version` (which moves when another connection commits:
 * https://www.sqlite.org/pragma.html#pragma_data_version) is read twice a second.
 */
import type { Logger } from 'pino';
import { storeFaultOf } from '../store/faults.js';
import type { Store } from '../store/store.js';
import { CHANGES_CHANNEL } from '../store/store.js';
import type { StoreFaultLog } from './store-faults.js';

const SQLITE_POLL_MS = 500;

export async function watchChanges(
  store: Store,
  log: Logger,
  changed: () => void,
  /** Where store faults go (one line when one begins, rate-limited after); without it, a warning once a minute. */
  faults?: StoreFaultLog,
): Promise<() => Promise<void>> {
  const { connection } = store;
  if (connection.listen !== undefined) {
    let warned = 0;
    return connection.listen(CHANGES_CHANNEL, changed, (error) => {
      const fault = storeFaultOf(error);
      if (faults !== undefined && fault !== undefined) {
        faults.failed(fault, 'change watcher');
        return;
      }
      // Once a minute at most: a database that is away says so without flooding the log.
      if (Date.now() - warned < 60_000) return;
      warned = Date.now();
      log.warn({ error: error.message }, 'listening for changes failed; reconnecting');
    });
  }
  let seen: number | undefined;
  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    store
      .dataVersion()
      .then((version) => {
        if (seen !== undefined && version !== seen) changed();
        seen = version;
      })
      .catch(() => undefined)
      .finally(() => {
        reading = false;
      });
  }, SQLITE_POLL_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    return Promise.resolve();
  };
}
