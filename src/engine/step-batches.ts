/**
 * The store as the runs the runner executes use it, with the writes and reads
 * every run makes on its way to its first action batched (Batcher): recording
 * what discovery found, recording steps, reading them, renewing the lease right
 * before a provider call and putting the attempt on record. A thousand runs
 * acting at one instant make a few statements of each, not a thousand. Each
 * request keeps its own answer: a run whose lease another replica took gets
 * LeaseLost, the others go on.
 */
import { LeaseLost } from '../store/queries/runs.js';
import type { Fence, NewStep, RunStep } from '../store/queries/runs.js';
import { OPEN_STATUSES } from '../store/queries/runs.js';
import type { InventoryResource } from '../store/queries/resources.js';
import type { Store } from '../store/store.js';
import { BatchError, Batcher } from './batcher.js';
import type { EngineStore } from './executor.js';

/** What a run's execution asks of the store (the executor's, and claiming what it discovered). */
export type RunStore = EngineStore & Pick<Store, 'recordDiscovered' | 'ownersOf' | 'moveResources'>;

interface Steps {
  readonly runId: string;
  readonly fence: Fence;
  readonly steps: readonly NewStep[];
}

interface Renewal {
  readonly id: string;
  readonly fence: Fence;
  readonly leaseMs: number;
}

interface Attempt {
  readonly runId: string;
  readonly fence: Fence;
  readonly ids: readonly number[];
  readonly now: number;
}

interface Discovery {
  readonly environment: string;
  readonly resources: readonly InventoryResource[];
  readonly now: number;
}

export function batchedRunStore(store: Store): RunStore {
  const ensure = new Batcher<Steps, undefined>((r) => ensureAll(store, r));
  const list = new Batcher<string, RunStep[]>(async (ids) => {
    const steps = await store.listStepsOf([...new Set(ids)]);
    return ids.map((id) => steps.get(id) ?? []);
  });
  const renew = new Batcher<Renewal, undefined>((r) => renewAll(store, r));
  const start = new Batcher<Attempt, undefined>((r) => startAll(store, r));
  const record = new Batcher<Discovery, undefined>((r) => recordAll(store, r));
  const owners = new Batcher<readonly string[], Map<string, string>>(async (lists) => {
    const all = await store.ownersOf([...new Set(lists.flat())]);
    return lists.map((ids) => new Map(ids.flatMap((id) => owned(all, id))));
  });
  return {
    appendEvents: store.appendEvents,
    finishStep: store.finishStep,
    getRun: store.getRun,
    upsertResources: store.upsertResources,
    setLastState: store.setLastState,
    moveResources: store.moveResources,
    ensureSteps: async (runId, fence, steps) => {
      // Nothing to write (a tier that found nothing), nothing to fence.
      if (steps.length > 0) await ensure.ask({ runId, fence, steps });
    },
    listSteps: (runId) => list.ask(runId),
    renewLease: async (id, fence, leaseMs) => {
      await renew.ask({ id, fence, leaseMs });
    },
    startSteps: async (runId, fence, ids, now) => {
      if (ids.length > 0) await start.ask({ runId, fence, ids, now });
    },
    recordDiscovered: async (environment, resources, now) => {
      if (resources.length > 0) await record.ask({ environment, resources, now });
    },
    ownersOf: (ids) => (ids.length === 0 ? Promise.resolve(new Map()) : owners.ask(ids)),
  };
}

function owned(owners: ReadonlyMap<string, string>, id: string): [string, string][] {
  const owner = owners.get(id);
  return owner === undefined ? [] : [[id, owner]];
}

/** store.ensureSteps for each: its lease checked (checkFence), then every run's steps in one insert. */
async function ensureAll(
  store: Store,
  requests: readonly Steps[],
): Promise<(undefined | BatchError)[]> {
  const runs = new Map(
    (await store.getRuns([...new Set(requests.map((r) => r.runId))])).map((r) => [r.id, r]),
  );
  const answers = requests.map(({ runId, fence }) => {
    const run = runs.get(runId);
    const heldElsewhere =
      run !== undefined &&
      OPEN_STATUSES.includes(run.status) &&
      (run.lease_owner !== fence.owner || run.lease_epoch !== fence.epoch);
    return heldElsewhere
      ? new BatchError(new LeaseLost(`run ${runId} is held by another replica now`))
      : undefined;
  });
  await store.insertSteps(
    requests
      .filter((_, i) => answers[i] === undefined)
      .flatMap(({ runId, steps }) => steps.map((s) => ({ ...s, runId }))),
  );
  return answers;
}

/** store.renewLease for each: LeaseLost for those another replica holds now. */
async function renewAll(
  store: Store,
  requests: readonly Renewal[],
): Promise<(undefined | BatchError)[]> {
  const renewed = new Set<string>();
  for (const leaseMs of new Set(requests.map((r) => r.leaseMs))) {
    const group = requests.filter((r) => r.leaseMs === leaseMs);
    for (const id of await store.renewLeases(group, leaseMs)) renewed.add(id);
  }
  return requests.map(({ id }) =>
    renewed.has(id)
      ? undefined
      : new BatchError(new LeaseLost(`run ${id} is held by another replica now`)),
  );
}

/** store.startSteps for each: a run whose steps did not all move is checked on its own (store.fenced). */
async function startAll(
  store: Store,
  requests: readonly Attempt[],
): Promise<(undefined | BatchError)[]> {
  const moved = new Map<Attempt, number>();
  for (const now of new Set(requests.map((r) => r.now))) {
    const group = requests.filter((r) => r.now === now);
    const counts = await store.startStepsOf(
      group.map(({ runId, fence, ids }) => ({ id: runId, fence, steps: ids })),
      now,
    );
    for (const request of group) moved.set(request, counts.get(request.runId) ?? 0);
  }
  return Promise.all(
    requests.map(async (request) => {
      if ((moved.get(request) ?? 0) >= request.ids.length) return undefined;
      try {
        await store.fenced(request.runId, request.fence);
        return undefined;
      } catch (error) {
        return new BatchError(error);
      }
    }),
  );
}

async function recordAll(store: Store, requests: readonly Discovery[]): Promise<undefined[]> {
  for (const now of new Set(requests.map((r) => r.now)))
    await store.recordDiscoveredOf(
      requests.filter((r) => r.now === now),
      now,
    );
  return requests.map(() => undefined);
}
