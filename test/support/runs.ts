/** Runs as the store returns them, for tests that stand the store in. */
import type { Instant } from '../../src/core/glossary.js';
import type { Run } from '../../src/store/queries/runs.js';

export const GRACE_MS = 15 * 60_000;

/**
 * The scheduled stop of `dev` created at `createdAt`, in its 15-minute grace
 * (due and acting at `createdAt` + 15 min), with `fields` changed.
 */
export function scheduledStop(createdAt: Instant, fields: Partial<Run> = {}): Run {
  return {
    id: 'run-1',
    environment: 'dev',
    direction: 'stop',
    due_at: createdAt + GRACE_MS,
    trigger: 'schedule',
    status: 'grace',
    act_at: createdAt + GRACE_MS,
    actor: 'scheduler',
    created_at: createdAt,
    updated_at: createdAt,
    finished_at: null,
    lease_owner: null,
    lease_until: null,
    summary: null,
    scope: null,
    until_at: null,
    target: '',
    seq: 1,
    lease_epoch: 0,
    prior_state: 'on',
    prior_reached: 1,
    ...fields,
  };
}
