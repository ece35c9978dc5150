/**
 * The store as runs acting together use it (src/engine/step-batches.ts): their
 * requests of one turn share statements, and each keeps its own answer.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { batchedRunStore } from '../../src/engine/step-batches.js';
import { LeaseLost } from '../../src/store/queries/runs.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from '../store/databases.js';

const stop = (id: string, environment: string) => ({
  id,
  environment,
  direction: 'stop' as const,
  dueAt: 0,
  actAt: 0,
  trigger: 'schedule' as const,
  actor: 'scheduler',
  seq: 1,
});

const web = {
  id: 'sandbox:ec2:web',
  provider: 'sandbox',
  kind: 'ec2',
  name: 'web',
  tags: {},
};

describe.each(DATABASES)('runs acting together, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('record their attempts together; one whose lease another replica took is told so, alone', async () => {
    const s = (store = await database.open());
    await s.createRun(stop('a', 'dev'), 0);
    await s.createRun(stop('b', 'test'), 0);
    const fenceA = (await s.claimRun('a', 'replica-a', 60_000, 0))!;
    const fenceB = (await s.claimRun('b', 'replica-a', 60_000, 0))!;
    const runs = batchedRunStore(s);
    await Promise.all([
      runs.ensureSteps('a', fenceA, [{ tier: 0, resource: web.id, action: 'stop' }]),
      runs.ensureSteps('b', fenceB, [{ tier: 0, resource: 'sandbox:ec2:api', action: 'stop' }]),
    ]);
    // Another replica takes b over (its lease expired).
    await s.db.updateTable('runs').set({ lease_until: 0 }).where('id', '=', 'b').execute();
    await s.claimRun('b', 'replica-b', 60_000, 1);
    const [stepsA, stepsB] = await Promise.all([runs.listSteps('a'), runs.listSteps('b')]);
    const attempts = await Promise.allSettled([
      runs.renewLease('a', fenceA, 60_000),
      runs.renewLease('b', fenceB, 60_000),
      runs.startSteps('a', fenceA, [stepsA[0]!.id], 100),
      runs.startSteps('b', fenceB, [stepsB[0]!.id], 100),
    ]);
    expect(attempts.map((a) => a.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
    ]);
    for (const attempt of attempts)
      if (attempt.status === 'rejected') expect(attempt.reason).toBeInstanceOf(LeaseLost);
    expect((await s.listSteps('a')).map((x) => [x.attempts, x.started_at])).toEqual([[1, 100]]);
    expect((await s.listSteps('b')).map((x) => [x.attempts, x.started_at])).toEqual([[0, null]]);
  });

  it('record what they discovered together; a resource two of them found keeps its first owner', async () => {
    const s = (store = await database.open());
    const runs = batchedRunStore(s);
    await Promise.all([
      runs.recordDiscovered('dev', [web], 10),
      runs.recordDiscovered('test', [web, { ...web, id: 'sandbox:ec2:api', name: 'api' }], 10),
    ]);
    const owners = await runs.ownersOf([web.id, 'sandbox:ec2:api']);
    expect(Object.fromEntries(owners)).toEqual({
      'sandbox:ec2:web': 'dev',
      'sandbox:ec2:api': 'test',
    });
  });
});
