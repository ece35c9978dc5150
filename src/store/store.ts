/**
 * The store: one object over the query modules, opened from a `--db` URL with
 * migrations run. Query functions stay plain functions of a Kysely handle, so a
 * transaction can call them too.
 */
import { sql } from 'kysely';
import { connect } from './db.js';
import type { Connection } from './db.js';
import { isMigrated, migrate } from './migrate.js';
import * as events from './queries/events.js';
import * as plans from './queries/plans.js';
import * as resources from './queries/resources.js';
import * as runs from './queries/runs.js';
import * as tokens from './queries/tokens.js';
import * as statistics from './queries/stats.js';

export class Store {
  constructor(readonly connection: Connection) {}

  get db() {
    return this.connection.db;
  }

  readonly appendEvents = (inputs: readonly events.EventInput[]) =>
    events.appendEvents(this.db, inputs);
  readonly queryEvents = (
    filter: events.EventFilter,
    page?: { after?: string | undefined; limit?: number | undefined },
  ) => events.queryEvents(this.db, filter, page);

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
  readonly listTokens = () => tokens.listTokens(this.db);
  readonly revokeToken = (idOrName: string, now: number) =>
    tokens.revokeToken(this.db, idOrName, now);
  readonly endHoldsOff = (environment: string, now: number, note?: string) =>
    plans.endHoldsOff(this.db, environment, now, note);

  readonly createRun = (run: runs.NewRun, now: number) => runs.createRun(this.db, run, now);
  readonly getRun = (id: string) => runs.getRun(this.db, id);
  readonly listRuns = (filter?: runs.RunFilter) => runs.listRuns(this.db, filter);
  readonly dueRuns = (now: number, owner: string) => runs.dueRuns(this.db, now, owner);
  readonly nextActAt = (now: number) => runs.nextActAt(this.db, now);
  readonly claimRun = (id: string, owner: string, now: number, leaseMs: number) =>
    runs.claimRun(this.db, id, owner, now, leaseMs);
  readonly advanceRun = (id: string, status: runs.Run['status'], now: number, summary?: unknown) =>
    runs.advanceRun(this.db, id, status, now, summary);
  readonly cancelRun = (id: string, now: number) => runs.cancelRun(this.db, id, now);
  readonly ensureSteps = (runId: string, steps: readonly runs.NewStep[]) =>
    runs.ensureSteps(this.db, runId, steps);
  readonly listSteps = (runId: string) => runs.listSteps(this.db, runId);
  readonly startSteps = (ids: readonly number[], now: number) => runs.startSteps(this.db, ids, now);
  readonly finishStep = (
    id: number | readonly number[],
    status: runs.RunStep['status'],
    now: number,
    error?: string,
  ) => runs.finishStep(this.db, id, status, now, error);

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

  /** Store reachable and every migration applied (for /readyz). */
  async isReady(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.db);
      return await isMigrated(this.connection);
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** Opens `url` (`sqlite:PATH` or `postgres://...`) and runs pending migrations. */
export async function openStore(url: string): Promise<Store> {
  const connection = await connect(url);
  try {
    await migrate(connection);
  } catch (error) {
    await connection.close();
    throw error;
  }
  return new Store(connection);
}
