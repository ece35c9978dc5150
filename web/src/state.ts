/** What the overview shows of an environment, from its resources' last known states. */
import type { EnvironmentSummary } from './api';

export type ShownState = 'on' | 'off' | 'starting' | 'stopping' | 'failed';
export const STATES: readonly ShownState[] = ['on', 'off', 'starting', 'stopping', 'failed'];

/**
 * A failed resource makes the environment failed; one on its way makes it starting
 * or stopping; else on if any resource is on. An environment with no resource seen
 * yet shows what it should be.
 */
export function shownState(environment: EnvironmentSummary): ShownState {
  const counts = environment.resources;
  const has = (state: string) => (counts[state] ?? 0) > 0;
  if (has('failed') || has('error')) return 'failed';
  if (has('starting')) return 'starting';
  if (has('stopping')) return 'stopping';
  if (has('on')) return 'on';
  if (has('off')) return 'off';
  return environment.desired;
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
