/**
 * Which database errors mean the store itself is in trouble (away, frozen, full,
 * read-only, failing I/O) rather than a query of ours being wrong. One table per
 * driver, so adding a code is one line; the service turns a fault into "not
 * ready", a backoff and one log line, and the API into a 503.
 */

/** What is wrong with the store, in words an operator can act on. */
export type StoreFaultKind = 'unreachable' | 'timeout' | 'full' | 'read-only' | 'io';

export interface StoreFault {
  readonly kind: StoreFaultKind;
  /** A fixed sentence for logs and /readyz: never the URL, a password or a query. */
  readonly reason: string;
}

const REASONS: Record<StoreFaultKind, string> = {
  unreachable: 'the database cannot be reached',
  timeout: 'the database did not answer in time',
  full: 'the disk holding the database is full',
  'read-only': 'the database is read-only',
  io: 'the database reports an I/O error',
};

/**
 * better-sqlite3 error codes (https://www.sqlite.org/rescode.html); extended codes
 * (`SQLITE_IOERR_WRITE`, `SQLITE_READONLY_DIRECTORY`...) fall back to their primary code.
 */
const SQLITE_CODES: Record<string, StoreFaultKind> = {
  SQLITE_FULL: 'full',
  SQLITE_READONLY: 'read-only',
  SQLITE_IOERR: 'io',
  SQLITE_CANTOPEN: 'io',
  SQLITE_CORRUPT: 'io',
  SQLITE_NOTADB: 'io',
};

/** PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html); two characters: a whole class. */
const POSTGRES_STATES: Record<string, StoreFaultKind> = {
  '08': 'unreachable', // connection exception
  '57P01': 'unreachable', // admin_shutdown: the server is restarting
  '57P02': 'unreachable', // crash_shutdown
  '57P03': 'unreachable', // cannot_connect_now: starting up or in recovery
  '57014': 'timeout', // query_canceled: our statement_timeout
  '53100': 'full', // disk_full
  '25006': 'read-only', // read_only_sql_transaction: a standby, or default_transaction_read_only
  '58030': 'io', // io_error
};

/** Socket errors from Node.js while talking to PostgreSQL. */
const SOCKET_CODES: Record<string, StoreFaultKind> = {
  ECONNREFUSED: 'unreachable',
  ECONNRESET: 'unreachable',
  EPIPE: 'unreachable',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  ENOTFOUND: 'unreachable',
  EAI_AGAIN: 'unreachable',
  ETIMEDOUT: 'timeout',
};

/** node-postgres says these in words only, without a code. */
const POSTGRES_MESSAGES: readonly (readonly [RegExp, StoreFaultKind])[] = [
  [/^Connection terminated/, 'unreachable'],
  [/not queryable/, 'unreachable'],
  [/timeout exceeded when trying to connect/, 'timeout'],
  [/^Query read timeout/, 'timeout'],
];

/** The store fault `error` (or one of its causes) reports, or undefined for any other error. */
export function storeFaultOf(error: unknown): StoreFault | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    const kind = kindOf(e);
    if (kind !== undefined) return { kind, reason: REASONS[kind] };
  }
  return undefined;
}

function kindOf(error: Error): StoreFaultKind | undefined {
  if (error instanceof StoreUnavailableError) return error.fault.kind;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_')) return SQLITE_CODES[code] ?? SQLITE_CODES[primary(code)];
    const kind = POSTGRES_STATES[code] ?? POSTGRES_STATES[code.slice(0, 2)] ?? SOCKET_CODES[code];
    if (kind !== undefined) return kind;
  }
  return POSTGRES_MESSAGES.find(([pattern]) => pattern.test(error.message))?.[1];
}

function primary(code: string): string {
  return code.split('_').slice(0, 2).join('_');
}

/** A store fault raised by lightsout itself (a bounded wait that ran out). */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly fault: StoreFault,
    options?: ErrorOptions,
  ) {
    super(fault.reason, options);
  }

  static of(kind: StoreFaultKind): StoreUnavailableError {
    return new StoreUnavailableError({ kind, reason: REASONS[kind] });
  }
}

/** Faults that stop writes while reads may still work: reachability alone does not reveal them. */
export function isWriteFault(fault: StoreFault): boolean {
  return fault.kind === 'full' || fault.kind === 'read-only' || fault.kind === 'io';
}
