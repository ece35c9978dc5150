/**
 * Opening the store: `sqlite:PATH` (the embedded default; one file, WAL) or
 * `postgres://...` (several replicas on one database). One Kysely query layer
 * over both.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type pg from 'pg';
import { storeFaultOf } from './faults.js';
import { StoreHealth, watchedBy } from './health.js';
import { queuedInOrder } from './queued-connection.js';
import { schemaScoped } from './introspector.js';
import type { Database } from './schema.js';
import { reusingStatements } from './statements.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * PostgreSQL time limits, so a database that is away or frozen (a stopped VM, a
 * network partition) fails a request instead of hanging it. A new connection
 * waits this long (node-postgres `connectionTimeoutMillis`)...
 */
export const POSTGRES_CONNECT_TIMEOUT_MS = 5_000;
/** ...a statement runs this long on the server (`statement_timeout`)... */
export const POSTGRES_STATEMENT_TIMEOUT_MS = 30_000;
/** ...and the client waits this long for any answer (`query_timeout`: a frozen server cancels nothing). */
export const POSTGRES_QUERY_TIMEOUT_MS = 35_000;
/** A session idle inside a transaction this long (its client frozen) is ended, freeing its locks. */
export const POSTGRES_IDLE_IN_TRANSACTION_MS = 60_000;

export interface Connection {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** What to show people: the URL without its password. */
  readonly description: string;
  /** PostgreSQL schema holding lightsout's tables (`?schema=` in the URL); default: the search path. */
  readonly schema?: string;
  /** Write faults seen by any query, until a write succeeds again (health.ts). */
  readonly health: StoreHealth;
  /**
   * PostgreSQL only: a connection of its own that LISTENs on `channel` and calls
   * `notified` for each NOTIFY; it reconnects with backoff when the database goes
   * away (calling `failed` each time). Resolves to the function that stops it.
   */
  listen?(
    channel: string,
    notified: () => void,
    failed: (error: Error) => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** A database that cannot be opened: the message names it (without a password) and the fix. */
export class StoreOpenError extends Error {
  override readonly name = 'StoreOpenError';
}

/** A `--db` value that is not one lightsout can open; the message says how to write it. */
export class DatabaseUrlError extends Error {
  override readonly name = 'DatabaseUrlError';
}

/** A SQLite file that is not there, opened by a command that must not create it, or in a directory that is not there. */
export class StoreNotFoundError extends Error {
  override readonly name = 'StoreNotFoundError';
  constructor(
    readonly file: string,
    message = `no store at ${file}`,
  ) {
    super(message);
  }
}

export interface ConnectOptions {
  /** Create a SQLite file that does not exist (default); false refuses with StoreNotFoundError. */
  readonly create?: boolean;
  /** `migrations`: no statement or query time limit on PostgreSQL (an index on a large table takes its time). */
  readonly purpose?: 'serve' | 'migrations';
}

export function parseDatabaseUrl(url: string): { dialect: Dialect; location: string } {
  if (url.startsWith('sqlite:')) {
    const location = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (location === '')
      throw new DatabaseUrlError(
        `--db "${url}" names no file; write sqlite:PATH, e.g. sqlite:./lightsout.db`,
      );
    return { dialect: 'sqlite', location };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    try {
      const parsed = new URL(url);
      if (parsed.hostname === '') throw new Error('no host');
    } catch {
      throw new DatabaseUrlError(
        `--db "${redact(url)}" is not a valid PostgreSQL URL; write postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
      );
    }
    return { dialect: 'postgres', location: url };
  }
  throw new DatabaseUrlError(
    `--db "${redact(url)}" is neither sqlite:PATH nor postgres://USER:PASSWORD@HOST/DATABASE`,
  );
}

/** The URL with any password replaced (in the authority or as a query parameter), safe for logs and errors. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass|secret|token|key/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString().replace('%2A%2A%2A', '***');
  } catch {
    // Not a URL we can parse: hide everything between "://" and the last "@".
    return url.replace(/^([a-z]+:\/\/)[^/]*@/i, '$1***@');
  }
}

export async function connect(url: string, options: ConnectOptions = {}): Promise<Connection> {
  const { dialect, location } = parseDatabaseUrl(url);
  const health = new StoreHealth();
  if (dialect === 'sqlite') {
    // A mistyped path must not silently become a new, empty store.
    if (location !== ':memory:') {
      if (options.create === false && !existsSync(location)) throw new StoreNotFoundError(location);
      if (!existsSync(dirname(location)))
        throw new StoreNotFoundError(
          location,
          `no directory ${dirname(location)} for the store ${location}; create it, or pass another --db`,
        );
    }
    const database = openSqlite(location);
    const db = new Kysely<Database>({
      dialect: watchedBy(
        queuedInOrder(new SqliteDialect({ database: reusingStatements(database) })),
        health,
      ),
    });
    return { db, dialect, description: `sqlite:${location}`, health, close: () => db.destroy() };
  }
  const { connectionString, schema } = splitSchema(location);
  // Loaded only for PostgreSQL: an embedded SQLite process does not pay for it.
  const { default: postgres } = await import('pg');
  const int8: number = postgres.types.builtins.INT8;
  /** BIGINT instants fit in a double for the next 285,000 years; read them as numbers, not strings. */
  const bigintAsNumber: typeof pg.types.getTypeParser = (oid, format) =>
    (oid as number) === int8 ? Number : (postgres.types.getTypeParser(oid, format) as unknown);
  const pool = new postgres.Pool({
    connectionString,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    max: 10,
    types: { getTypeParser: bigintAsNumber },
    ...(options.purpose !== 'migrations'
      ? TIME_LIMITS
      : { connectionTimeoutMillis: TIME_LIMITS.connectionTimeoutMillis }),
  });
  // A client's error (the server restarting) must not crash the process: an idle
  // client's reaches the pool, which drops it; a checked-out client (inside a
  // transaction) has no listener of the pool's, and without this one its 'error'
  // would be unhandled. Its query fails instead, and the pool drops the client on release.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  // Its introspection (the migrator's) sees this schema only, not others' (introspector.ts).
  const db = new Kysely<Database>({
    dialect: watchedBy(schemaScoped(new PostgresDialect({ pool }), schema), health),
  });
  return {
    db,
    dialect,
    description: redact(location),
    ...(schema === undefined ? {} : { schema }),
    health,
    listen: (channel, notified, failed) =>
      listenOn(
        () => new postgres.Client({ connectionString, ...TIME_LIMITS }),
        channel,
        notified,
        failed,
      ),
    close: () => db.destroy(),
  };
}

/** node-postgres options (https://node-postgres.com/apis/client) bounding every wait on the server. */
const TIME_LIMITS = {
  connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS,
  statement_timeout: POSTGRES_STATEMENT_TIMEOUT_MS,
  query_timeout: POSTGRES_QUERY_TIMEOUT_MS,
  idle_in_transaction_session_timeout: POSTGRES_IDLE_IN_TRANSACTION_MS,
  // A server whose host vanished (not one that refuses) is noticed by TCP keepalive.
  keepAlive: true,
} as const;

/** Opens the SQLite file in WAL mode; a directory missing, read-only or full is one clear error. */
function openSqlite(location: string): SqliteDatabase.Database {
  let database: SqliteDatabase.Database | undefined;
  try {
    // SQLite would open a file it may not write read-only, and fail every write later.
    if (location !== ':memory:')
      for (const path of [dirname(resolve(location)), location])
        if (existsSync(path)) accessSync(path, constants.W_OK);
    database = new SqliteDatabase(location);
    database.pragma('journal_mode = WAL');
    // With WAL, NORMAL never corrupts and survives a killed process; only an OS crash
    // or power loss may drop the last commits. FULL would fsync every step.
    database.pragma('synchronous = NORMAL');
    // Writers from several processes (serve and the CLI) wait for each other rather than fail.
    database.pragma('busy_timeout = 5000');
    database.pragma('foreign_keys = ON');
    return database;
  } catch (error) {
    database?.close();
    throw sqliteOpenError(location, error);
  }
}

/** Why `location` cannot be opened, and what to do about it. */
export function sqliteOpenError(location: string, error: unknown): StoreOpenError {
  const directory = dirname(resolve(location));
  const where = `--db sqlite:${location}`;
  const options = { cause: error };
  if (!existsSync(directory))
    return new StoreOpenError(
      `${where}: the directory ${directory} does not exist; create it (mkdir -p ${directory}) or choose another --db`,
      options,
    );
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const fault =
    code === 'EROFS' || code === 'EACCES' || code === 'EPERM'
      ? { kind: 'read-only' }
      : storeFaultOf(error);
  if (fault?.kind === 'full')
    return new StoreOpenError(
      `${where}: the disk holding ${directory} is full; free some space or choose another --db`,
      options,
    );
  if (fault !== undefined)
    // SQLite creates the -wal and -shm files beside the database: the directory must be writable too.
    return new StoreOpenError(
      `${where}: cannot write the database or its directory ${directory} (read-only or not permitted); make both writable by this user or choose another --db`,
      options,
    );
  const message = error instanceof Error ? error.message : String(error);
  return new StoreOpenError(`${where}: cannot open it: ${message}`, options);
}

/** LISTEN on a client of its own, reconnecting with backoff (1 s doubling to 30 s) when it drops. */
async function listenOn(
  newClient: () => pg.Client,
  channel: string,
  notified: () => void,
  failed: (error: Error) => void,
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let stopped = false;
  let delay = 1_000;
  let timer: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    if (stopped) return;
    const next = newClient();
    client = next;
    next.on('notification', () => {
      notified();
    });
    next.on('error', (error) => {
      failed(error);
      retry();
    });
    try {
      await next.connect();
      await next.query(`listen ${channel}`);
      delay = 1_000;
      notified(); // changes made while it was away are read by the pass this triggers
    } catch (error) {
      failed(error instanceof Error ? error : new Error(String(error)));
      retry();
    }
  };
  const retry = () => {
    if (stopped || timer !== undefined) return;
    const old = client;
    client = undefined;
    old?.end().catch(() => undefined);
    timer = setTimeout(() => {
      timer = undefined;
      void connect();
    }, delay);
    timer.unref();
    delay = Math.min(30_000, delay * 2);
  };
  await connect();
  return async () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    await client?.end().catch(() => undefined);
  };
}

/** `?schema=NAME` is ours, not libpq's: take it out of the URL pg sees. */
function splitSchema(url: string): { connectionString: string; schema?: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  if (schema === null) return { connectionString: url };
  if (!/^[a-z_][a-z0-9_]*$/i.test(schema)) {
    throw new DatabaseUrlError(
      `schema "${schema}" in --db is not a plain identifier; use letters, digits and "_"`,
    );
  }
  parsed.searchParams.delete('schema');
  return { connectionString: parsed.toString(), schema };
}
