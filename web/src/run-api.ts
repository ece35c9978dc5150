/**
 * A run as GET /api/v1/runs/:id and its stream answer it, and the calls the run
 * page and the overview's pending shutdowns make about one run.
 */
import { call } from './api';

export type RunStatus = 'grace' | 'acting' | 'succeeded' | 'failed' | 'cancelled' | 'superseded';
export type StepStatus = 'pending' | 'acted' | 'done' | 'already' | 'failed' | 'skipped';

export interface RunStep {
  readonly resource: string;
  readonly tier: number;
  readonly action: string;
  readonly status: StepStatus;
  readonly attempts: number;
  /** The cloud's reason, for a failed step. */
  readonly error: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

/** A warning's "keep running" choice: cancelling the stop with this `until` does what its link does. */
export interface KeepRunning {
  readonly action: 'keep-1h' | 'keep-until-start';
  readonly label: string;
  readonly until: string;
}

export interface RunDetail {
  readonly id: string;
  readonly environment: string;
  readonly direction: 'start' | 'stop' | 'boost';
  readonly status: RunStatus;
  readonly trigger: string;
  readonly actor: string;
  readonly dueAt: string;
  readonly actAt: string;
  readonly until?: string;
  readonly finishedAt: string | null;
  readonly createdAt: string;
  /** The environment's time zone. */
  readonly timezone: string;
  readonly cancelled: {
    readonly by: string;
    readonly at: string;
    readonly keepOnUntil?: string;
  } | null;
  readonly steps: readonly RunStep[];
  readonly keepRunning: readonly KeepRunning[];
}

export const OPEN: readonly RunStatus[] = ['grace', 'acting'];

export function runDetail(id: string): Promise<RunDetail> {
  return call('GET', `/api/v1/runs/${encodeURIComponent(id)}`);
}

/** Cancels a stop in its grace; `until`: how long it keeps running (default: the schedule's next stop). */
export function cancelRun(id: string, until?: string): Promise<{ onUntil: string }> {
  return call(
    'POST',
    `/api/v1/runs/${encodeURIComponent(id)}/cancel`,
    until === undefined ? {} : { until },
  );
}

/** "Tue 1 Dec, 19:00:05 (Europe/Paris)": a time to the second in a zone, the zone named. */
export function atSecond(iso: string, zone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(new Date(iso));
  return `${text} (${zone})`;
}
