/**
 * Forwards the event log to one destination, at least once, in log order as far
 * as the APIs allow.
 *
 * The destination's cursor (the last event it has been sent) is in the store. A
 * step reads the events after it, sends them in requests cut to the API's
 * limits, and after each request is accepted whole moves the cursor to the
 * request's last event by compare-and-set: two replicas may both send a request
 * (the event arrives twice, at least once), but the cursor never moves past an
 * event that no replica has had accepted. With an `owner`, a lease makes one
 * replica at a time forward, so that happens only when a lease ran out. Entries the API refused are sent again
 * alone (within a step after a backoff; across steps while the cursor stays put);
 * the events after a refused one wait, so a bus that refuses everything loses
 * nothing.
 *
 * On PostgreSQL an event id can become visible after a higher one (ids are
 * taken when a transaction inserts, seen when it commits), so a step stops
 * before a hole in the ids until the hole cannot be filled any more: every
 * transaction that could hold its ids has ended. Its transaction took the id
 * before the hole was seen, and a transaction id within moments of that; so
 * HOLE_FENCE_MS after the hole is first seen, the next transaction id to be
 * given is noted as the hole's fence, and once every transaction below the fence
 * has ended (the snapshot's xmin reached it), the hole is an id never used (a
 * rolled-back write) and is passed over. GAP_WAIT_MS is the backstop. SQLite has
 * one writer at a time, so no holes.
 */
import type { Event } from '../store/queries/events.js';
import type { WriterHorizon } from '../store/queries/forwarding.js';
import type { Store } from '../store/store.js';
import type { Destination, Outcome, Retry } from './destination.js';
import { ForwardError } from './destination.js';
import { kindFilter } from './kinds.js';

/** Events read per step. */
export const READ_LIMIT = 100;
/** A hole in the ids is fenced this long after it is first seen (see above). */
export const HOLE_FENCE_MS = 1_000;
/** A hole in the ids older than this is an id never used, whatever the fence says. */
export const GAP_WAIT_MS = 60_000;
/** A replica forwards to a destination for this long after its last step; then another may. */
export const LEASE_MS = 30_000;
/** Tries of a request within one step (throttling, a failed service) before the step gives up. */
export const ATTEMPTS = 4;
const RETRY_BASE_MS = 250;

export type StepOutcome =
  | { readonly status: 'idle' }
  | { readonly status: 'sent'; readonly events: number; readonly more: boolean }
  | {
      readonly status: 'failed';
      readonly retry: Retry;
      readonly code: string;
      readonly message: string;
    };

export interface ForwarderOptions {
  readonly store: Pick<
    Store,
    | 'dialect'
    | 'forwardCursor'
    | 'advanceForwardCursor'
    | 'eventsAfter'
    | 'writerHorizon'
    | 'leaseForwarding'
    | 'releaseForwarding'
  >;
  readonly destination: Destination;
  readonly kinds?: readonly string[] | undefined;
  /**
   * This replica's name: with it, one replica at a time forwards to the
   * destination (a lease of LEASE_MS, renewed at each step); without it, no lease.
   */
  readonly owner?: string | undefined;
  /** Wall-clock milliseconds (the age of a hole in the ids). */
  readonly now: () => number;
  /** Waits between tries within a step. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export class Forwarder {
  private readonly wanted: (kind: string) => boolean;
  /** Events accepted since the cursor was at `after`: not sent again while it stays there. */
  private accepted = { after: -1, ids: new Set<number>() };
  /** The hole in the ids being waited for: after which id, seen since when. */
  private hole: { after: number; since: number; fence?: number } | undefined;

  constructor(private readonly options: ForwarderOptions) {
    this.wanted = kindFilter(options.kinds);
  }

  get key(): string {
    return this.options.destination.key;
  }

  /** One read of the log and the requests it makes. */
  async step(): Promise<StepOutcome> {
    const { store, destination, now } = this.options;
    const cursor = await store.forwardCursor(destination.key, now());
    const { owner } = this.options;
    if (
      owner !== undefined &&
      !(await store.leaseForwarding(destination.key, owner, now(), LEASE_MS))
    )
      return { status: 'idle' }; // another replica forwards to it
    if (this.accepted.after !== cursor) this.accepted = { after: cursor, ids: new Set() };
    // Read before the events: a transaction below its xmin that wrote an event is visible in them.
    const horizon = store.dialect === 'postgres' ? await store.writerHorizon() : undefined;
    const read = await store.eventsAfter(cursor, READ_LIMIT);
    const settled = horizon === undefined ? read : this.settled(cursor, read, horizon);
    const last = settled.at(-1);
    if (last === undefined) return { status: 'idle' };
    const more = settled.length === read.length && read.length === READ_LIMIT;
    const batches = destination.batches(
      settled.filter((e) => this.wanted(e.kind) && !this.accepted.ids.has(e.id)),
    );
    let position = cursor;
    let sent = 0;
    for (const [i, batch] of batches.entries()) {
      const refused = await this.deliver(batch);
      if (refused !== undefined) return { status: 'failed', ...refused };
      sent += batch.length;
      // Events left out by `kinds` between two requests go with the request before them.
      const upTo = i === batches.length - 1 ? last.id : batch.at(-1)!.id;
      if (!(await store.advanceForwardCursor(destination.key, position, upTo, now())))
        return { status: 'sent', events: sent, more: true }; // another replica moved it: read again
      position = upTo;
      // Still ours: what the next request had accepted is not sent again after a refusal.
      this.accepted.after = upTo;
    }
    if (
      batches.length === 0 &&
      !(await store.advanceForwardCursor(destination.key, cursor, last.id, now()))
    )
      return { status: 'sent', events: 0, more: true };
    return { status: 'sent', events: sent, more };
  }

  /** Gives up the lease, so another replica takes over at once (a stop). */
  async release(): Promise<void> {
    if (this.options.owner !== undefined)
      await this.options.store.releaseForwarding(this.options.destination.key, this.options.owner);
  }

  /** Sends a request, then its refused entries alone; what stayed refused, or undefined. */
  private async deliver(
    batch: readonly Event[],
  ): Promise<{ retry: Retry; code: string; message: string } | undefined> {
    const { destination, sleep, random = Math.random } = this.options;
    let pending = batch;
    for (let attempt = 1; ; attempt += 1) {
      let outcomes: Outcome[];
      try {
        outcomes = await destination.send(pending);
      } catch (error) {
        if (!(error instanceof ForwardError)) throw error;
        if (error.retry === 'permanent' || attempt >= ATTEMPTS)
          return { retry: error.retry, code: error.code, message: error.message };
        await sleep(retryDelay(attempt, random));
        continue;
      }
      const refused: Event[] = [];
      let worst: Extract<Outcome, { ok: false }> | undefined;
      pending.forEach((event, i) => {
        const outcome = outcomes[i] ?? {
          ok: false,
          retry: 'transient',
          code: 'Missing',
          message: 'no result',
        };
        if (outcome.ok) this.accepted.ids.add(event.id);
        else {
          refused.push(event);
          if (worst === undefined || (outcome.retry === 'permanent' && worst.retry !== 'permanent'))
            worst = outcome;
        }
      });
      if (worst === undefined) return undefined;
      const message = `${refused.length} of ${pending.length} events refused (event ${refused[0]!.id}: ${worst.code}: ${worst.message})`;
      if (worst.retry === 'permanent' || attempt >= ATTEMPTS)
        return { retry: worst.retry, code: worst.code, message };
      await sleep(retryDelay(attempt, random));
      pending = refused;
    }
  }

  /** The events that can be sent now: those before a hole in the ids that may still be filled. */
  private settled(
    cursor: number,
    events: readonly Event[],
    horizon: WriterHorizon,
  ): readonly Event[] {
    const now = this.options.now();
    let expected = cursor + 1;
    for (const [i, event] of events.entries()) {
      if (event.id !== expected) {
        const after = expected - 1;
        if (this.hole?.after !== after) this.hole = { after, since: now };
        const hole = this.hole;
        if (hole.fence === undefined && now - hole.since >= HOLE_FENCE_MS)
          hole.fence = horizon.xmax;
        const ended = hole.fence !== undefined && horizon.xmin >= hole.fence;
        if (!ended && now - hole.since < GAP_WAIT_MS) return events.slice(0, i);
      }
      expected = event.id + 1;
    }
    return events;
  }
}

/** 250 ms doubling, with equal jitter. */
function retryDelay(attempt: number, random: () => number): number {
  const ceiling = RETRY_BASE_MS * 2 ** (attempt - 1);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
