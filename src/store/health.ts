/**
 * What the store knows of its own health between readiness checks.
 *
 * A reachable database may still refuse every write: a full disk, a file system
 * gone read-only, a PostgreSQL standby. A rolled-back probe cannot reveal that
 * (SQLite keeps an uncommitted transaction's pages in memory and only the commit
 * touches the disk), and a committed probe on every /readyz would write all day.
 * So every query's failure is watched here (the dialect wrapper below), the last
 * write fault is remembered, and /readyz answers 503 until a committed probe
 * write succeeds again, which is tried only while a fault is remembered.
 */
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryResult,
  TransactionSettings,
} from 'kysely';
import { isWriteFault, storeFaultOf } from './faults.js';
import type { StoreFault } from './faults.js';

export class StoreHealth {
  private fault: StoreFault | undefined;

  /** The write fault seen last and not yet cleared by a successful probe. */
  get writeFault(): StoreFault | undefined {
    return this.fault;
  }

  /** Any query's error: a write fault is remembered; any other error says nothing of the store. */
  failed(error: unknown): void {
    const fault = storeFaultOf(error);
    if (fault !== undefined && isWriteFault(fault)) this.fault = fault;
  }

  /** A write committed: the store takes writes again. */
  recovered(): void {
    this.fault = undefined;
  }
}

/** `dialect`, with every query error (and failure to connect) shown to `health` first. */
export function watchedBy(dialect: Dialect, health: StoreHealth): Dialect {
  return {
    createDriver: () => new WatchedDriver(dialect.createDriver(), health),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
  };
}

/**
 * The connection handed out is the driver's own behind a proxy that watches
 * `executeQuery`: Kysely's PostgreSQL driver releases (and discards, after a failed
 * rollback) a connection through private members of the object it created.
 */
class WatchedDriver implements Driver {
  constructor(
    private readonly driver: Driver,
    private readonly health: StoreHealth,
  ) {}

  init(): Promise<void> {
    return this.driver.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.watch(() => this.driver.acquireConnection());
    const executeQuery = <R>(query: CompiledQuery) =>
      this.watch<QueryResult<R>>(() => connection.executeQuery<R>(query));
    return new Proxy(connection, {
      get(target, property) {
        if (property === 'executeQuery') return executeQuery;
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
  }

  // Transaction statements go through the watched connection, so a failed COMMIT (a full disk) is seen.
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.driver.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.rollbackTransaction(connection);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.driver.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.driver.destroy();
  }

  private async watch<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.health.failed(error);
      throw error;
    }
  }
}
