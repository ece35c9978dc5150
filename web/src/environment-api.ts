/** The environment page's calls: its detail, its days, and the changes an operator makes. */
import type { EnvironmentSummary } from './api';
import { call } from './api';

export interface Span {
  readonly from: string;
  readonly to: string;
}

export interface EnvironmentDetail extends EnvironmentSummary {
  readonly schedule: { readonly name: string; readonly text: string } | null;
  readonly graceMs: number;
  /** Tier names in start order. */
  readonly tiers: readonly string[];
  readonly resources: Readonly<Record<string, number>>;
  readonly holds: readonly Hold[];
  readonly reservations: readonly Reservation[];
  readonly runs: readonly {
    readonly id: string;
    readonly direction: string;
    readonly status: string;
  }[];
}

/** GET /api/v1/environments/:name answers its resources as a list (the summary's counts are per state). */
export interface ResourceRow {
  readonly id: string;
  readonly kind: string;
  readonly name: string;
  readonly state: string;
  readonly tier: string | null;
}

export interface Reservation extends Span {
  readonly id: string;
  readonly actor: string;
  readonly source: string;
  readonly resource?: string;
  readonly note?: string;
}

export interface Hold {
  readonly id: string;
  readonly state: 'on' | 'off';
  readonly from?: string;
  readonly until: string;
  readonly actor: string;
}

export interface TimelineRun {
  readonly id: string;
  readonly direction: string;
  readonly trigger: string;
  readonly status: string;
  readonly actor: string;
  readonly createdAt: string;
  readonly actAt: string;
  readonly finishedAt?: string;
}

export interface Timeline {
  readonly timezone: string;
  readonly now: string;
  readonly days: readonly { readonly date: string; readonly from: string; readonly to: string }[];
  readonly planned: {
    readonly on: readonly Span[];
    readonly schedule: readonly Span[];
    readonly reservations: readonly Reservation[];
    readonly holds: readonly Hold[];
  };
  readonly actual: readonly (Span & { readonly state: 'on' | 'off' | 'partial' })[];
  readonly runs: readonly TimelineRun[];
}

const path = (name: string) => `/api/v1/environments/${encodeURIComponent(name)}`;

export function environmentDetail(
  name: string,
): Promise<Omit<EnvironmentDetail, 'resources'> & { resources: ResourceRow[] }> {
  return call('GET', path(name));
}

export function timeline(name: string, from?: string, days = 7): Promise<Timeline> {
  const query = new URLSearchParams({
    days: String(days),
    ...(from === undefined ? {} : { from }),
  });
  return call('GET', `${path(name)}/timeline?${query}`);
}

/** Local times ("2026-12-01T14:00") are read by the API in the environment's zone. */
export function reserve(environment: string, from: string, to: string, note?: string) {
  return call<{ id: string }>('POST', '/api/v1/reservations', {
    environment,
    from,
    to,
    ...(note === undefined || note === '' ? {} : { note }),
  });
}

export function deleteReservation(id: string): Promise<void> {
  return call('DELETE', `/api/v1/reservations/${encodeURIComponent(id)}`);
}

export function hold(environment: string, state: 'on' | 'off', until: string) {
  return call('POST', '/api/v1/holds', { environment, state, until });
}

export function deleteHold(id: string): Promise<void> {
  return call('DELETE', `/api/v1/holds/${encodeURIComponent(id)}`);
}

export function extend(environment: string, until: string) {
  return call('POST', `${path(environment)}/extend`, { until });
}

/** The run a start or stop made (202). */
export interface StartedRun {
  readonly id: string;
  readonly status: string;
  /** When the stop acts: the grace's end. */
  readonly actAt: string;
}

export function startNow(environment: string): Promise<StartedRun> {
  return call('POST', `${path(environment)}/start`, {});
}

export function stopAfterGrace(environment: string): Promise<StartedRun> {
  return call('POST', `${path(environment)}/stop`, {});
}
