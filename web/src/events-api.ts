/**
 * The events page's reading of GET /api/v1/events: the filter as the page's URL
 * holds it (so a filtered view can be shared and reloaded) and as the API reads it.
 * Its imports name their .js file: test/web/events-summary.test.ts type-checks it
 * under NodeNext.
 */
import { call } from './api.js';

/** An event as the API shows it (docs/events.md, the envelope). */
export interface LoggedEvent {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly kind: string;
  readonly environment: string | null;
  readonly resource: string | null;
  readonly runId: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
}

export interface EventsPage {
  readonly events: readonly LoggedEvent[];
  readonly next?: string;
  /** With a text search: the window it searched (`until` null: up to now). */
  readonly searched?: { readonly since: string; readonly until: string | null };
}

/** The filter's parameters, in the URL and the API alike. */
export const FILTER_KEYS = [
  'environment',
  'team',
  'kind',
  'actor',
  'q',
  'since',
  'until',
  'run',
  'resource',
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type Filter = Partial<Record<FilterKey, string>>;

/** The filter of a URL query: known keys with a value, nothing else. */
export function filterOf(query: Readonly<Record<string, string | undefined>>): Filter {
  const filter: Filter = {};
  for (const key of FILTER_KEYS) {
    const value = query[key]?.trim();
    if (value !== undefined && value !== '') filter[key] = value;
  }
  return filter;
}

/** `environment=dev&kind=run.*`, in FILTER_KEYS order, for the URL and the API. */
export function queryOf(filter: Filter, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filter[key];
    if (value !== undefined) params.set(key, value);
  }
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  return params.toString();
}

export const PAGE_SIZE = 50;

/** A page of the filter, newest first, after a cursor. */
export function eventsPage(filter: Filter, after?: string): Promise<EventsPage> {
  const query = queryOf(filter, {
    order: 'desc',
    limit: String(PAGE_SIZE),
    ...(after === undefined ? {} : { after }),
  });
  return call('GET', `/api/v1/events?${query}`);
}

/** Where the whole filter downloads, newest first (the session cookie goes with it). */
export function exportUrl(filter: Filter, format: 'csv' | 'ndjson'): string {
  return `/api/v1/events?${queryOf(filter, { order: 'desc', format })}`;
}
