/**
 * The store: one object over the query modules, opened from a `--db` URL with
 * migrations run. Query functions stay plain functions of a Kysely handle, so a
 * transaction can call them too.
 */
import { sql } from 'kysely';
import { connect, parseDatabaseUrl, sqliteOpenError, StoreOpenError } from './db.js';
import type { Connection, ConnectOptions } from './db.js';
import { storeFaultOf, StoreUnavailableError } from './faults.js';
import type { StoreFault } from './faults.js';
import { isMigrated, migrate } from './migrate.js';
import * as applied from './queries/applied.js';
import * as engineState from './queries/engine-state.js';
import * as events from './queries/events.js';
import * as notices from './queries/notices.js';
import * as plans from './queries/plans.js';
import * as resources from './queries/resources.js';
import * as runs from './queries/runs.js';
import * as tokens from './queries/tokens.js';
import * as links from './queries/links.js';
import * as forwarding from './queries/forwarding.js';
import * as power from './queries/power.js';
import { storeBuckets } from './queries/buckets.js';
import type { Interval } from '../core/glossary.js';
import type { LinkUseRow } from './schema.js';
import * as statistics from './queries/stats.js';
import { inTransaction } from './queries/transaction.js';

/** The PostgreSQL channel a change of plan is announced on, so every replica's reconciler wakes. */
export const CHANGES_CHANNEL = 'lightsout_changes';

/** /readyz answers within this, whatever the database does (a frozen server answers nothing). */
export const READINESS_TIMEOUT_MS = 2_000;

/** The engine_state key a readiness probe writes while a write fault is remembered. */
const PROBE_KEY = 'readiness_probe';

/** Ready, or why not: the reason always; the fault when the store itself is in trouble. */
export type Readiness = { ready: true } | { ready: false; reason: string; fault?: StoreFault };

export class Store {
  constructor(
    readonly connection: Connection,
    /** Made by `atomically` or `snapshot`: every query is already part of one transaction. */
    private readonly nested = false,
  ) {}

  get db() {
    return this.connection.db;
  }

  get dialect() {
    return this.connection.dialect;
  }

  /** Runs `work` in one transaction, with a store whose every query is part of it. */
  atomically<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    return inTransaction(this.db, this.dialect, (trx) =>
      work(new Store({ ...this.connection, db: trx }, true)),
    );
  }

  /** Runs the reads of `work` on one consistent snapshot (a pass sees plans, applied states and runs of one instant). */
  snapshot<T>(work: (tx: Store) => Promise<T>): Promise<T> {
    return inTransaction(
      this.db,
      this.dialect,
      (trx) => work(new Store({ ...this.connection, db: trx }, true)),
      'snapshot',
    );
  }

  /**
   * Tells every replica's reconciler that the plan changed: on PostgreSQL a NOTIFY,
   * delivered when the surrounding transaction commits; SQLite readers see their
   * `PRAGMA data_version` move instead.
   */
  async announceChange(): Promise<void> {
    if (this.dialect === 'postgres')
      await sql`select pg_notify(${CHANGES_CHANNEL}, '')`.execute(this.db);
  }

  /** SQLite's counter of commits made by other connections (other processes). */
  async dataVersion(): Promise<number> {
    const { rows } = await sql<{ data_version: number }>`pragma data_version`.execute(this.db);
    return rows[0]?.data_version ?? 0;
  }

  readonly listApplied = (environment?: string) => applied.listApplied(this.db, environment);
  readonly listAppliedOf = (environments: readonly string[]) =>
    applied.listAppliedOf(this.db, environments);
  readonly getApplied = (environment: string, resource?: string) =>
    applied.getApplied(this.db, environment, resource);
  readonly advanceApplied = (change: applied.AppliedChange, now: number) =>
    applied.advanceApplied(this.db, change, now);
  readonly recordOutcome = (
    run: { environment: string; target: string; seq: number },
    outcome: { failures: number | 'reset'; retryAt: number | null },
    now: number,
  ) => applied.recordOutcome(this.db, run, outcome, now);

  readonly addNotice = (notice: notices.NewNotice, now: number) =>
    notices.addNotice(this.db, notice, now);
  readonly dueNotices = (now: number, limit?: number) => notices.dueNotices(this.db, now, limit);
  readonly nextNoticeAt = (now: number) => notices.nextNoticeAt(this.db, now);
  readonly pendingReports = (channel: string, now: number) =>
    notices.pendingReports(this.db, channel, now);
  readonly claimNotice = (notice: notices.StoredNotice, retryAt: number) =>
    notices.claimNotice(this.db, notice, retryAt);
  readonly settleNotice = (
    id: number,
    attempt: number | undefined,
    status: 'sent' | 'failed' | 'pending',
    now: number,
    error?: string,
  ) => notices.settleNotice(this.db, id, attempt, status, now, error);
  readonly listNotices = (runId: string) => notices.listNotices(this.db, runId);

  readonly readValue = (key: string) => engineState.readValue(this.db, key);
  readonly readValues = (keys: readonly string[]) => engineState.readValues(this.db, keys);
  readonly swapValue = (key: string, expected: number | undefined, value: number) =>
    engineState.swapValue(this.db, key, expected, value);
  readonly writeValue = (key: string, value: number) => engineState.writeValue(this.db, key, value);
  readonly deleteValues = (prefix: string) => engineState.deleteValues(this.db, prefix);

  /** Appends events; those that say a resource turned on or off update the power ledger with them. */
  readonly appendEvents = (inputs: readonly events.EventInput[]): Promise<void> =>
    power.changesPower(inputs) && !this.nested
      ? inTransaction(this.db, this.dialect, async (trx) => {
          await events.appendEvents(trx, inputs);
          await power.recordPower(trx, inputs);
        })
      : this.appendAll(inputs);
  private async appendAll(inputs: readonly events.EventInput[]): Promise<void> {
    await events.appendEvents(this.db, inputs);
    await power.recordPower(this.db, inputs);
  }
  readonly pruneEvents = (before: number, limit: number) =>
    events.pruneEvents(this.db, before, limit);
  readonly offTotals = (environments: readonly string[], instants: readonly number[]) =>
    power.offTotals(this.db, environments, instants);
  readonly offIntervalsIn = (environments: readonly string[], window: Interval) =>
    power.offIntervalsIn(this.db, environments, window);
  readonly queryEvents = (
    filter: events.EventFilter,
    page?: {
      after?: string | undefined;
      limit?: number | undefined;
      order?: events.EventOrder | undefined;
    },
  ) => events.queryEvents(this.db, this.dialect, filter, page);
  readonly readEventRows = (after: number, limit: number, range?: events.EventRange) =>
    events.readEventRows(this.db, after, limit, range);
  readonly firstEventIdSince = (after: number, since: number) =>
    events.firstEventIdSince(this.db, after, since);

  readonly forwardCursor = (destination: string, now: number) =>
    forwarding.forwardCursor(this.db, destination, now);
  readonly advanceForwardCursor = (
    destination: string,
    expected: number,
    next: number,
    now: number,
  ) => forwarding.advanceForwardCursor(this.db, destination, expected, next, now);
  readonly eventsAfter = (after: number, limit: number) =>
    forwarding.eventsAfter(this.db, after, limit);
  readonly leaseForwarding = (destination: string, owner: string, now: number, leaseMs: number) =>
    forwarding.leaseForwarding(this.db, destination, owner, now, leaseMs);
  readonly releaseForwarding = (destination: string, owner: string) =>
    forwarding.releaseForwarding(this.db, destination, owner);
  /** PostgreSQL only. */
  readonly writerHorizon = () => forwarding.writerHorizon(this.db);

  readonly syncConfig = (snapshot: plans.ConfigSnapshot, now: number) =>
    plans.syncConfig(this.db, snapshot, now);
  readonly listEnvironments = () => plans.listEnvironments(this.db);
  readonly addReservation = (r: Parameters<typeof plans.addReservation>[1], now: number) =>
    plans.addReservation(this.db, r, now);
  readonly addHold = (h: Parameters<typeof plans.addHold>[1], now: number) =>
    plans.addHold(this.db, h, now);
  readonly activePlans = (since: number, scope?: plans.PlanScope) =>
    plans.activePlans(this.db, since, scope);
  readonly listReservations = (filter: plans.ReservationFilter) =>
    plans.listReservations(this.db, filter);
  readonly getReservation = (id: string) => plans.getReservation(this.db, id);
  readonly deleteReservation = (id: string) => plans.deleteReservation(this.db, id);
  readonly getHold = (id: string) => plans.getHold(this.db, id);
  readonly listHolds = (environments: readonly string[], since: number) =>
    plans.listHolds(this.db, environments, since);
  readonly deleteHold = (id: string) => plans.deleteHold(this.db, id);

  readonly stats = () => statistics.stats(this.db);

  readonly addToken = (t: Parameters<typeof tokens.addToken>[1], now: number) =>
    tokens.addToken(this.db, t, now);
  readonly tokenByHash = (hash: string) => tokens.tokenByHash(this.db, hash);
  readonly linkKey = (candidate: string, now: number) => links.linkKey(this.db, candidate, now);
  readonly claimLinkUse = (use: LinkUseRow) => links.claimLinkUse(this.db, use);
  readonly linkUse = (tokenHash: string) => links.linkUse(this.db, tokenHash);
  readonly releaseLinkUse = (tokenHash: string) => links.releaseLinkUse(this.db, tokenHash);
  readonly listTokens = () => tokens.listTokens(this.db);
  readonly revokeToken = (idOrName: string, now: number) =>
    tokens.revokeToken(this.db, idOrName, now);
  readonly endHoldsOff = (environment: string, now: number, note?: string) =>
    plans.endHoldsOff(this.db, environment, now, note);

  readonly createRun = (run: runs.NewRun, now: number) => runs.createRun(this.db, run, now);
  readonly getRun = (id: string) => runs.getRun(this.db, id);
  readonly getRuns = (ids: readonly string[]) => runs.getRuns(this.db, ids);
  readonly listRuns = (filter?: runs.RunFilter) => runs.listRuns(this.db, filter);
  readonly openRuns = () => runs.openRuns(this.db);
  readonly dueRuns = (now: number, owner: string) =>
    runs.dueRuns(this.db, this.dialect, now, owner);
  readonly nextActAt = (now: number) => runs.nextActAt(this.db, now);
  readonly claimRun = (id: string, owner: string, leaseMs: number, now: number) =>
    runs.claimRun(this.db, this.dialect, id, owner, leaseMs, now);
  readonly claimRuns = (ids: readonly string[], owner: string, leaseMs: number, now: number) =>
    runs.claimRuns(this.db, this.dialect, ids, owner, leaseMs, now);
  readonly startActing = (
    claimed: readonly { readonly id: string; readonly fence: runs.Fence }[],
    now: number,
  ) => runs.startActing(this.db, claimed, now);
  readonly actingEnvironments = (environments: readonly string[]) =>
    runs.actingEnvironments(this.db, environments);
  readonly checkFence = (id: string, fence: runs.Fence) => runs.checkFence(this.db, id, fence);
  readonly renewLease = (id: string, fence: runs.Fence, leaseMs: number) =>
    runs.renewLease(this.db, this.dialect, id, fence, leaseMs);
  readonly advanceRun = (
    id: string,
    fence: runs.Fence | undefined,
    status: runs.Run['status'],
    now: number,
    summary?: unknown,
  ) => runs.advanceRun(this.db, id, fence, status, now, summary);
  readonly isActing = (environment: string) => runs.isActing(this.db, environment);
  readonly releaseLease = (id: string, fence: runs.Fence) => runs.releaseLease(this.db, id, fence);
  /**
   * Inside a transaction: serialises the transactions that lock the same
   * environment (PostgreSQL advisory lock; SQLite's immediate transactions are
   * serial already).
   */
  async lockEnvironment(environment: string): Promise<void> {
    if (this.dialect === 'postgres')
      await sql`select pg_advisory_xact_lock(hashtext(${`lightsout:${environment}`}))`.execute(
        this.db,
      );
  }
  /** lockEnvironment for several, in one order every caller shares (no two wait on each other). */
  async lockEnvironments(environments: readonly string[]): Promise<void> {
    if (this.dialect !== 'postgres' || environments.length === 0) return;
    const names = [...new Set(environments)].sort();
    await sql`select pg_advisory_xact_lock(hashtext('lightsout:' || name)) from (select unnest(${names}::text[]) as name order by name) as sorted`.execute(
      this.db,
    );
  }
  readonly endInGrace = (id: string, status: 'cancelled' | 'superseded', now: number) =>
    runs.endInGrace(this.db, id, status, now);
  readonly ensureSteps = (runId: string, fence: runs.Fence, steps: readonly runs.NewStep[]) =>
    runs.ensureSteps(this.db, runId, fence, steps);
  readonly listSteps = (runId: string) => runs.listSteps(this.db, runId);
  readonly listStepsOf = (runIds: readonly string[]) => runs.listStepsOf(this.db, runIds);
  readonly insertSteps = (steps: readonly (runs.NewStep & { readonly runId: string })[]) =>
    runs.insertSteps(this.db, steps);
  readonly renewLeases = (
    claimed: readonly { readonly id: string; readonly fence: runs.Fence }[],
    leaseMs: number,
  ) => runs.renewLeases(this.db, this.dialect, claimed, leaseMs);
  readonly startStepsOf = (
    claimed: readonly {
      readonly id: string;
      readonly fence: runs.Fence;
      readonly steps: readonly number[];
    }[],
    now: number,
  ) => runs.startStepsOf(this.db, claimed, now);
  /** Throws LeaseLost when a fenced write moved fewer rows than asked because another replica holds the run. */
  readonly fenced = (runId: string, fence: runs.Fence) => runs.fenced(this.db, runId, fence);
  readonly startSteps = (runId: string, fence: runs.Fence, ids: readonly number[], now: number) =>
    runs.startSteps(this.db, runId, fence, ids, now);
  readonly finishStep = (
    runId: string,
    fence: runs.Fence,
    id: number | readonly number[],
    status: runs.RunStep['status'],
    now: number,
    error?: string,
  ) => runs.finishStep(this.db, runId, fence, id, status, now, error);

  readonly upsertResources = (
    environment: string,
    list: readonly resources.InventoryResource[],
    now: number,
  ) => resources.upsertResources(this.db, environment, list, now);
  readonly setLastState = (ids: readonly string[], state: string, now: number) =>
    resources.setLastState(this.db, ids, state, now);
  readonly listResources = (environment?: string) => resources.listResources(this.db, environment);
  readonly countByState = (environments: readonly string[]) =>
    resources.countByState(this.db, environments);
  readonly getResource = (id: string) => resources.getResource(this.db, id);
  readonly ownersOf = (ids: readonly string[]) => resources.ownersOf(this.db, ids);
  readonly recordDiscovered = (
    environment: string,
    list: readonly resources.InventoryResource[],
    now: number,
  ) => resources.recordDiscovered(this.db, environment, list, now);
  readonly recordDiscoveredOf = (
    discoveries: readonly {
      environment: string;
      resources: readonly resources.InventoryResource[];
    }[],
    now: number,
  ) => resources.recordDiscoveredOf(this.db, discoveries, now);
  readonly moveResources = (environment: string, ids: readonly string[], now: number) =>
    resources.moveResources(this.db, environment, ids, now);
  readonly findInstances = (instanceId: string) => resources.findInstances(this.db, instanceId);
  /** Restore data of resources, for providers (see RestoreData). */
  restoreData(now: () => number) {
    return {
      save: (id: string, key: string, data: unknown) =>
        resources.saveRestore(this.db, [{ id, key, data }], now()),
      saveMany: (entries: readonly resources.RestoreEntry[]) =>
        resources.saveRestore(this.db, entries, now()),
      load: (id: string, key: string) => resources.loadRestore(this.db, id, key),
      find: (prefix: string, key: string) => resources.findRestore(this.db, prefix, key),
    };
  }

  /** Token buckets kept in the store, shared by every replica on it (queries/buckets.ts). */
  buckets() {
    return storeBuckets(this.db, this.dialect);
  }

  /** Store reachable and every migration applied (for /readyz). */
  async isReady(): Promise<boolean> {
    return (await this.readiness()).ready;
  }

  /**
   * Whether this store can serve, within `timeoutMs`: reachable, every migration
   * applied, and, when a write failed for want of space or permission, a probe
   * write committed since. The reason says what is wrong, never the URL.
   */
  async readiness(timeoutMs = READINESS_TIMEOUT_MS): Promise<Readiness> {
    // Checks asked for while one runs share it: a frozen server does not collect one stuck query per probe.
    const check = (this.checking ??= this.checkReadiness().finally(() => {
      this.checking = undefined;
    }));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Readiness>((resolve) => {
      timer = setTimeout(() => {
        const { fault } = StoreUnavailableError.of('timeout');
        resolve({ ready: false, reason: fault.reason, fault });
      }, timeoutMs);
    });
    try {
      return await Promise.race([check, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private checking: Promise<Readiness> | undefined;

  private async checkReadiness(): Promise<Readiness> {
    try {
      await sql`select 1`.execute(this.db);
      if (!(await isMigrated(this.connection)))
        return { ready: false, reason: 'the database schema is not migrated' };
      if (this.connection.health.writeFault !== undefined) await this.probeWrite();
      return { ready: true };
    } catch (error) {
      const fault = faultOf(error);
      return { ready: false, reason: fault.reason, fault };
    }
  }

  /**
   * Commits one small write (only while a write fault is remembered): a success
   * clears the fault; a failure is the fault again. Throws what the write threw.
   */
  async probeWrite(): Promise<void> {
    await this.db
      .insertInto('engine_state')
      .values({ key: PROBE_KEY, value: Date.now() })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })),
      )
      .execute();
    this.connection.health.recovered();
  }

  /** The write fault remembered since the last successful write probe, if any. */
  get writeFault(): StoreFault | undefined {
    return this.connection.health.writeFault;
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** A store error as a fault, the unclassified kind said plainly. */
function faultOf(error: unknown): StoreFault {
  return storeFaultOf(error) ?? { kind: 'io', reason: 'the database refused a query' };
}

/**
 * Opens `url` (`sqlite:PATH` or `postgres://...`) and runs pending migrations;
 * `{ create: false }` refuses a SQLite file that does not exist (StoreNotFoundError).
 * A database that cannot be reached, read or written is a StoreOpenError naming
 * it (without a password) and the fix.
 */
export async function openStore(url: string, options: ConnectOptions = {}): Promise<Store> {
  if (parseDatabaseUrl(url).dialect === 'postgres') {
    // Migrations run on a pool of their own, without the time limits requests have.
    const migrating = await connect(url, { ...options, purpose: 'migrations' });
    try {
      await migrate(migrating);
    } catch (error) {
      throw openError(migrating, error);
    } finally {
      await migrating.close().catch(() => undefined);
    }
    return new Store(await connect(url, options));
  }
  const connection = await connect(url, options);
  try {
    await migrate(connection);
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw openError(connection, error);
  }
  return new Store(connection);
}

function openError(connection: Connection, error: unknown): unknown {
  const fault = storeFaultOf(error);
  if (fault === undefined) return error;
  if (connection.dialect === 'sqlite')
    return sqliteOpenError(connection.description.slice('sqlite:'.length), error);
  let root = error;
  while (root instanceof Error && root.cause instanceof Error) root = root.cause;
  const detail = root instanceof Error && root.message !== '' ? ` (${root.message})` : '';
  return new StoreOpenError(
    `--db ${connection.description}: ${fault.reason}${detail}; check that it runs and that the URL is right, then start again`,
    { cause: error },
  );
}
