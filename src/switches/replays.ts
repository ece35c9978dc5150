/**
 * What a hook has already been sent, remembered for a window: a signed request's
 * signature (refused when it comes again), an SNS message's MessageId (a retried
 * delivery answers what the first did, and acts once).
 *
 * In memory, on purpose: both windows are short (5 minutes for a signature, the
 * hour SNS can retry for) and bounded by the message's own signed timestamp,
 * which is refused once older than the window, so nothing outlives a restart
 * that could still be replayed against this process after it. The entries are
 * capped (least recently used go first) so a flood of valid messages cannot
 * grow memory without bound. With several replicas behind a load balancer, a
 * replay reaching another replica within the window is not caught: route hooks
 * to one replica (sticky by path), or accept that risk for a switch whose worst
 * replay is the same action again.
 */
import { LRUCache } from 'lru-cache';
import type { Instant } from '../core/glossary.js';

const MAX_REMEMBERED = 10_000;

/** Keys seen in the last `windowMs`, by the given clock. */
export class SeenWithin {
  readonly #seen: LRUCache<string, true>;

  constructor(windowMs: number, now: () => Instant) {
    this.#seen = new LRUCache({ max: MAX_REMEMBERED, ttl: windowMs, perf: { now } });
  }

  /** True the first time `key` comes within the window, false after. */
  first(key: string): boolean {
    if (this.#seen.has(key)) return false;
    this.#seen.set(key, true);
    return true;
  }
}

/**
 * Work done once per key within the window: a second call while the first is
 * under way or after it succeeded gets the same outcome (`again: true`); after a
 * failure the key is forgotten, so a retry does the work.
 */
export class OnceWithin<T> {
  readonly #done: LRUCache<string, { value: Promise<T> }>;

  constructor(windowMs: number, now: () => Instant) {
    this.#done = new LRUCache({ max: MAX_REMEMBERED, ttl: windowMs, perf: { now } });
  }

  async run(key: string, work: () => Promise<T>): Promise<{ value: T; again: boolean }> {
    const found = this.#done.get(key);
    if (found !== undefined) return { value: await found.value, again: true };
    const entry = { value: work() };
    this.#done.set(key, entry);
    try {
      return { value: await entry.value, again: false };
    } catch (error) {
      if (this.#done.get(key) === entry) this.#done.delete(key);
      throw error;
    }
  }
}
