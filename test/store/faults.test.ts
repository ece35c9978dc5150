/**
 * Store faults are read from the drivers' own errors, one table per driver; the
 * store remembers a write fault until a probe write commits.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { storeFaultOf, StoreUnavailableError } from '../../src/store/faults.js';
import { connect } from '../../src/store/db.js';
import { openStore } from '../../src/store/store.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from './databases.js';

/** An error shaped as the driver throws it: a message and a code. */
function driverError(message: string, code?: string, cause?: unknown): Error {
  return Object.assign(new Error(message, { cause }), code === undefined ? {} : { code });
}

describe('a store fault', () => {
  it.each([
    ['SQLite, a full disk', driverError('database or disk is full', 'SQLITE_FULL'), 'full'],
    [
      'SQLite, read-only',
      driverError('attempt to write a readonly database', 'SQLITE_READONLY'),
      'read-only',
    ],
    ['SQLite, an extended code', driverError('disk I/O error', 'SQLITE_IOERR_WRITE'), 'io'],
    [
      'PostgreSQL restarting',
      driverError('terminating connection due to administrator command', '57P01'),
      'unreachable',
    ],
    [
      'PostgreSQL starting up',
      driverError('the database system is starting up', '57P03'),
      'unreachable',
    ],
    ['a connection exception class', driverError('connection failure', '08006'), 'unreachable'],
    [
      'PostgreSQL read-only',
      driverError('cannot execute INSERT in a read-only transaction', '25006'),
      'read-only',
    ],
    ['PostgreSQL, a full disk', driverError('could not extend file', '53100'), 'full'],
    [
      'our statement_timeout',
      driverError('canceling statement due to statement timeout', '57014'),
      'timeout',
    ],
    [
      'a refused connection',
      driverError('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      'unreachable',
    ],
    ['a dropped connection', driverError('Connection terminated unexpectedly'), 'unreachable'],
    [
      'a frozen server (connect)',
      driverError('timeout exceeded when trying to connect'),
      'timeout',
    ],
    ['a frozen server (query)', driverError('Query read timeout'), 'timeout'],
    [
      'a wrapped cause',
      driverError('migration failed', undefined, driverError('x', 'ECONNRESET')),
      'unreachable',
    ],
    ['our own bounded wait', StoreUnavailableError.of('timeout'), 'timeout'],
  ])('is read from %s', (_, error, kind) => {
    expect(storeFaultOf(error)?.kind).toBe(kind);
  });

  it.each([
    ['a constraint violation', driverError('duplicate key value', '23505')],
    ['a busy SQLite (it waits, then retries)', driverError('database is locked', 'SQLITE_BUSY')],
    ['a syntax error', driverError('syntax error at or near "selec"', '42601')],
    ['anything else', new Error('no such environment')],
    ['a string', 'not an error'],
  ])('is not read from %s', (_, error) => {
    expect(storeFaultOf(error)).toBeUndefined();
  });

  it('is said in a sentence that holds no URL, query or password', () => {
    const fault = storeFaultOf(driverError('password authentication failed for user "x"', '08P01'));
    expect(fault).toEqual({ kind: 'unreachable', reason: 'the database cannot be reached' });
  });
});

describe.each(DATABASES)('readiness on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('is ready when reachable and migrated', async () => {
    store = await database.open();
    expect(await store.readiness()).toEqual({ ready: true });
  });

  it('clears a remembered write fault once a probe write commits', async () => {
    store = await database.open();
    // A query that failed for want of space, as the driver reports it.
    store.connection.health.failed(driverError('database or disk is full', 'SQLITE_FULL'));
    expect(store.writeFault).toEqual({
      kind: 'full',
      reason: 'the disk holding the database is full',
    });
    // The disk has room again: the readiness check's probe write commits and clears the fault.
    expect(await store.readiness()).toEqual({ ready: true });
    expect(store.writeFault).toBeUndefined();
  });

  it('remembers the write fault a query met, and ignores other errors', async () => {
    const s = (store = await database.open());
    await expect(
      s.db
        .selectFrom('no_such_table' as never)
        .selectAll()
        .execute(),
    ).rejects.toThrow();
    expect(s.writeFault).toBeUndefined();

    const event = {
      at: 1,
      actor: 'test',
      kind: 'test.written',
      payload: { text: 'x'.repeat(50_000) },
    };
    if (s.dialect === 'sqlite') {
      // The database may not grow: as good as a full disk, for this connection.
      const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(s.db);
      await sql.raw(`pragma max_page_count = ${rows[0]!.page_count}`).execute(s.db);
      await expect(s.appendEvents([event])).rejects.toThrow('database or disk is full');
      expect(s.writeFault?.kind).toBe('full');
      await sql`pragma max_page_count = 1073741823`.execute(s.db);
    } else {
      await expect(
        s.atomically(async (tx) => {
          await sql`set transaction read only`.execute(tx.db);
          await tx.appendEvents([event]);
        }),
      ).rejects.toThrow('read-only transaction');
      expect(s.writeFault?.kind).toBe('read-only');
    }
    expect(await s.readiness()).toEqual({ ready: true });
    expect(s.writeFault).toBeUndefined();
  });
});

describe.each(DATABASES.filter((d) => d.name === 'postgres'))(
  'time limits on $name',
  (database) => {
    it('bound every request, but not the migrations run at start', async () => {
      const url = database.url();
      const store = await openStore(url);
      const migrating = await connect(url, { purpose: 'migrations' });
      try {
        const limit = async (db: Kysely<unknown>) =>
          (await sql<{ statement_timeout: string }>`show statement_timeout`.execute(db)).rows[0]
            ?.statement_timeout;
        expect(await limit(store.db as Kysely<unknown>)).toBe('30s');
        expect(await limit(migrating.db as Kysely<unknown>)).toBe('0');
      } finally {
        await migrating.close();
        await store.close();
      }
    });
  },
);
