/**
 * SQLite's one connection, handed out in the order it was asked for.
 *
 * Kysely's SQLite driver guards its connection with a mutex whose waiters all
 * await one promise: each release wakes every waiter, one wins and the others
 * wait again. With a thousand runs starting at one instant that is a million
 * wake-ups per thousand queries, and it showed as seconds of lock and garbage
 * collection in the profile of 1,000 simultaneous transitions. A FIFO semaphore
 * (async-mutex) in front lets one caller at a time reach Kysely's mutex, which
 * then never has more than one waiter.
 */
import { Semaphore } from 'async-mutex';
import type { DatabaseConnection, Dialect, Driver, TransactionSettings } from 'kysely';

export function queuedInOrder(dialect: Dialect): Dialect {
  return {
    createDriver: () => new QueuedDriver(dialect.createDriver()),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}

class QueuedDriver implements Driver {
  private readonly turn = new Semaphore(1);
  /**
   * The release of the turn the connection handed out holds: one at a time. (Not
   * keyed by connection: drivers around this one hand back proxies of it.)
   */
  private release: (() => void) | undefined;

  constructor(private readonly driver: Driver) {}

  init(): Promise<void> {
    return this.driver.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const [, release] = await this.turn.acquire();
    try {
      const connection = await this.driver.acquireConnection();
      this.release = release;
      return connection;
    } catch (error) {
      release();
      throw error;
    }
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await this.driver.releaseConnection(connection);
    } finally {
      const release = this.release;
      this.release = undefined;
      release?.();
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.driver.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.rollbackTransaction(connection);
  }

  destroy(): Promise<void> {
    return this.driver.destroy();
  }
}
