/**
 * How far a request (API or command line) may reach, so that no request makes the server plan an
 * unbounded window on the event loop it shares with the reconciler and /healthz
 * (a reservation from 1970 once froze the server for seconds; from year 0 it ran
 * out of memory), and no instant overflows a date. docs/api.md lists them.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A limit and how the docs and the errors write it. */
export interface Limit {
  readonly ms: number;
  readonly text: string;
}

/** A reservation may start at most this long ago (a request sent a moment late still fits). */
export const RESERVATION_START_IN_PAST: Limit = { ms: HOUR, text: '1h' };

/** The longest warning a stop may ask for (`grace`). */
export const MAX_GRACE: Limit = { ms: DAY, text: '24h' };

/** The longest boost (`for`). */
export const MAX_BOOST: Limit = { ms: 7 * DAY, text: '7d' };

/**
 * How far ahead a hold, an extend or a cancel's `until` may reach; a longer
 * override belongs in the config file's `holds`.
 */
export const MAX_HOLD_AHEAD: Limit = { ms: 366 * DAY, text: '366d' };

/**
 * The longest window a reservation's answer plans for its `onWindows` (a day
 * before it starts, to a day after it ends, when `max_reservation` allows long ones).
 */
/** The longest window a savings report covers (the event log's default retention). */
export const MAX_SAVINGS_WINDOW: Limit = { ms: 400 * DAY, text: '400d' };

export const MAX_ANSWER_WINDOW: Limit = { ms: 31 * DAY, text: '31d' };

/**
 * A text search of the event log reads every event of its window (no index holds
 * the payloads' text): it searches this far back by default, and at most
 * MAX_SEARCH_WINDOW (BENCHMARKS.md measures it on a log of 10 million events' density).
 */
export const SEARCH_WINDOW: Limit = { ms: 7 * DAY, text: '7d' };
export const MAX_SEARCH_WINDOW: Limit = { ms: 31 * DAY, text: '31d' };

/** Times in requests lie in these years: four digits, as ISO 8601 writes them without agreement. */
export const YEARS = { first: 1970, last: 9999 } as const;
