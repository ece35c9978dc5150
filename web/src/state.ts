/** What the overview shows of an environment, from its resources' last known states. */
import type { EnvironmentSummary, RunSummary } from './api';

export type ShownState = 'on' | 'off' | 'starting' | 'stopping' | 'failed';
export const STATES: readonly ShownState[] = ['on', 'off', 'starting', 'stopping', 'failed'];

/**
 * From the environment's newest run first: in its grace or acting, a stop is
 * stopping and a start is starting; a failed one is failed. Otherwise (no run
 * under way) from its resources' last known states: on if any is on, off if
 * they are off; with none seen yet, what its plan wants now.
 */
export function shownState(environment: EnvironmentSummary, newest?: RunSummary): ShownState {
  if (newest !== undefined) {
    const underWay = newest.status === 'grace' || newest.status === 'acting';
    if (underWay && newest.direction === 'stop') return 'stopping';
    if (underWay && newest.direction === 'start') return 'starting';
    if (newest.status === 'failed') return 'failed';
  }
  const counts = environment.resources;
  const has = (state: string) => (counts[state] ?? 0) > 0;
  if (has('on')) return 'on';
  if (has('off')) return 'off';
  return environment.desired;
}

/** Each environment's newest run, from a list newest first. */
export function newestRuns(runs: readonly RunSummary[]): Map<string, RunSummary> {
  const newest = new Map<string, RunSummary>();
  for (const run of runs) if (!newest.has(run.environment)) newest.set(run.environment, run);
  return newest;
}

/** "in 2 h 05 min", "in 45 s", "now". */
export function countdown(toMs: number, nowMs: number): string {
  const seconds = Math.round((toMs - nowMs) / 1000);
  if (seconds <= 0) return 'now';
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `in ${hours} h ${String(minutes % 60).padStart(2, '0')} min`;
  return `in ${Math.floor(hours / 24)} days`;
}

/** A time in a zone, with the zone named: "Tue 14:30 (Europe/Paris)". */
export function inZone(iso: string, zone: string): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso));
  return `${text} (${zone})`;
}
