/**
 * The events page: the event log the caller may see, newest first, filtered by
 * environment, team, kinds, actor, time window and text (the filter lives in the
 * URL, so a view can be shared and reloaded), a page at a time ("Load more"), each
 * event with its time in the viewer's zone and in UTC, a one-line summary and its
 * payload; the whole filter downloads as CSV or NDJSON. The API scopes everything
 * to the caller's team: the page filters nothing itself.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { EnvironmentSummary } from './api';
import { ApiError, environments } from './api';
import type { EventsPage, Filter, LoggedEvent } from './events-api';
import { eventsPage, exportUrl, filterOf, queryOf } from './events-api';
import { summary, timeIn, VIEWER_ZONE } from './events-summary';
import './events.css';

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string; readonly hint?: string }
  | {
      readonly kind: 'ready';
      readonly events: readonly LoggedEvent[];
      readonly next: string | undefined;
      readonly searched: EventsPage['searched'];
      /** Loading the next page, or why it failed. */
      readonly more: 'idle' | 'loading' | { readonly error: string };
    };

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The families of docs/events.md, offered as suggestions for the kind filter. */
const FAMILIES = [
  'run.*',
  'hold.*',
  'reservation.*',
  'notice.*',
  'resource.*',
  'environment.*',
  'drift.*',
  'reconcile.*',
  'alarms.*',
  'token.*',
];

/** An ISO instant as a datetime-local input shows it: this browser's wall time. */
function localInput(iso: string | undefined): string {
  if (iso === undefined || Number.isNaN(Date.parse(iso))) return '';
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** A datetime-local input's value (this browser's wall time) as an ISO instant. */
function isoOf(local: string): string | undefined {
  if (local === '') return undefined;
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

export default function Events() {
  const { query, route } = useLocation();
  // The filter changes when the URL's filter does, not with every render.
  const key = queryOf(filterOf(query));
  const filter = useMemo(() => filterOf(query), [key]);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [known, setKnown] = useState<readonly EnvironmentSummary[]>([]);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    environments().then(
      ({ environments: list }) => {
        setKnown(list);
      },
      // The selects then offer what the URL names only; the list below says what failed.
      () => undefined,
    );
  }, []);

  useEffect(() => {
    let current = true;
    setLoad({ kind: 'loading' });
    eventsPage(filter).then(
      (page) => {
        if (current)
          setLoad({
            kind: 'ready',
            events: page.events,
            next: page.next,
            searched: page.searched,
            more: 'idle',
          });
      },
      (error: unknown) => {
        if (!current) return;
        // The API names its parameters; the page's own words for the same fix.
        const hint =
          error instanceof ApiError && error.type === 'search-window-too-long'
            ? 'Set From and To at most 31 days apart, or clear From to search the last 7 days.'
            : undefined;
        setLoad({
          kind: 'error',
          message: message(error),
          ...(hint === undefined ? {} : { hint }),
        });
      },
    );
    return () => {
      current = false;
    };
  }, [key, attempt]);

  const loadMore = () => {
    if (load.kind !== 'ready' || load.next === undefined) return;
    const ready = load;
    setLoad({ ...ready, more: 'loading' });
    eventsPage(filter, ready.next).then(
      (page) => {
        setLoad({
          ...ready,
          events: [...ready.events, ...page.events],
          next: page.next,
          more: 'idle',
        });
      },
      (error: unknown) => {
        setLoad({ ...ready, more: { error: message(error) } });
      },
    );
  };

  const apply = (next: Filter) => {
    const q = queryOf(next);
    route(q === '' ? '/events' : `/events?${q}`);
  };
  const filtered = key !== '';

  return (
    <main class="page events-page">
      <h1>Events</h1>
      <Filters filter={filter} known={known} onApply={apply} />
      <div class="events-export" role="group" aria-label="Export">
        <span>Download every event of this filter:</span>
        <a class="button-link" href={exportUrl(filter, 'csv')} download>
          CSV
        </a>
        <a class="button-link" href={exportUrl(filter, 'ndjson')} download>
          NDJSON
        </a>
      </div>
      {load.kind === 'ready' && load.searched !== undefined ? (
        <p class="muted">
          Text search covers {timeIn(load.searched.since, VIEWER_ZONE, false)} to{' '}
          {load.searched.until === null ? 'now' : timeIn(load.searched.until, VIEWER_ZONE, false)}{' '}
          (at most 31 days); set From and To to search another window.
        </p>
      ) : null}
      {load.kind === 'loading' ? (
        <p aria-busy="true">Loading events…</p>
      ) : load.kind === 'error' ? (
        <div class="error" role="alert">
          <p>Could not load the events: {load.message}</p>
          {load.hint === undefined ? null : <p>{load.hint}</p>}
          <button
            type="button"
            onClick={() => {
              setAttempt((n) => n + 1);
            }}
          >
            Retry
          </button>
        </div>
      ) : load.events.length === 0 ? (
        <p class="empty">
          {filtered ? (
            <>
              No event matches these filters.{' '}
              <button
                type="button"
                onClick={() => {
                  apply({});
                }}
              >
                Clear filters
              </button>
            </>
          ) : (
            'No event recorded yet: everything lightsout does will show here.'
          )}
        </p>
      ) : (
        <>
          <p class="muted" aria-live="polite">
            {load.events.length} event{load.events.length === 1 ? '' : 's'} shown, newest first
            {load.next === undefined ? ' (all of them)' : ''}.
          </p>
          <ol class="events">
            {load.events.map((e) => (
              <EventItem key={e.id} event={e} />
            ))}
          </ol>
          {load.next === undefined ? null : (
            <p>
              <button type="button" onClick={loadMore} disabled={load.more === 'loading'}>
                {load.more === 'loading' ? 'Loading…' : 'Load more'}
              </button>
            </p>
          )}
          {typeof load.more === 'object' ? (
            <p class="error" role="alert">
              Could not load more events: {load.more.error}. Press Load more to try again.
            </p>
          ) : null}
        </>
      )}
    </main>
  );
}

function Filters({
  filter,
  known,
  onApply,
}: {
  filter: Filter;
  known: readonly EnvironmentSummary[];
  onApply: (filter: Filter) => void;
}) {
  const [draft, setDraft] = useState<Filter>(filter);
  // Back, forward or a link: the form shows the URL's filter.
  useEffect(() => {
    setDraft(filter);
  }, [filter]);
  const set = (key: keyof Filter, value: string | undefined) => {
    setDraft((d) => ({ ...d, [key]: value === '' ? undefined : value }));
  };
  const names = [...new Set([...known.map((e) => e.name), filter.environment ?? ''])]
    .filter((n) => n !== '')
    .sort();
  const teams = [...new Set([...known.map((e) => e.team ?? ''), filter.team ?? ''])]
    .filter((t) => t !== '')
    .sort();
  const pick = (key: 'environment' | 'team', value: string) => {
    const next = { ...draft, [key]: value === '' ? undefined : value };
    setDraft(next);
    onApply(next);
  };
  return (
    <form
      class="filters events-filters"
      role="search"
      aria-label="Filter events"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(draft);
      }}
    >
      <label>
        Search
        <input
          type="search"
          name="q"
          value={draft.q ?? ''}
          placeholder="text, run id, resource…"
          maxLength={200}
          onInput={(e) => {
            set('q', e.currentTarget.value);
          }}
        />
      </label>
      <label>
        Environment
        <select
          value={draft.environment ?? ''}
          onChange={(e) => {
            pick('environment', e.currentTarget.value);
          }}
        >
          <option value="">All environments</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <label>
        Team
        <select
          value={draft.team ?? ''}
          onChange={(e) => {
            pick('team', e.currentTarget.value);
          }}
        >
          <option value="">All teams</option>
          {teams.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </label>
      <label>
        Kinds
        <input
          name="kind"
          list="event-families"
          value={draft.kind ?? ''}
          placeholder="run.* or hold.created,…"
          onInput={(e) => {
            set('kind', e.currentTarget.value.replace(/\s+/g, ''));
          }}
        />
        <datalist id="event-families">
          {FAMILIES.map((f) => (
            <option key={f} value={f} />
          ))}
        </datalist>
      </label>
      <label>
        Actor
        <input
          name="actor"
          value={draft.actor ?? ''}
          placeholder="api:ci, scheduler…"
          onInput={(e) => {
            set('actor', e.currentTarget.value);
          }}
        />
      </label>
      <label>
        From ({VIEWER_ZONE})
        <input
          type="datetime-local"
          name="since"
          value={localInput(draft.since)}
          onInput={(e) => {
            set('since', isoOf(e.currentTarget.value));
          }}
        />
      </label>
      <label>
        To ({VIEWER_ZONE})
        <input
          type="datetime-local"
          name="until"
          value={localInput(draft.until)}
          onInput={(e) => {
            set('until', isoOf(e.currentTarget.value));
          }}
        />
      </label>
      <div class="events-actions">
        <button type="submit">Apply filters</button>
        <button
          type="button"
          class="secondary"
          onClick={() => {
            setDraft({});
            onApply({});
          }}
        >
          Clear
        </button>
      </div>
      {filter.run !== undefined || filter.resource !== undefined ? (
        <p class="muted events-also">
          Also only {filter.run === undefined ? '' : `run ${filter.run}`}
          {filter.run !== undefined && filter.resource !== undefined ? ' and ' : ''}
          {filter.resource === undefined ? '' : `resource ${filter.resource}`} (Clear removes it).
        </p>
      ) : null}
    </form>
  );
}

function EventItem({ event: e }: { event: LoggedEvent }) {
  const payload = Object.keys(e.payload).length > 0;
  return (
    <li class="event" data-event-id={e.id} data-kind={e.kind}>
      <div class="event-head">
        <span class="event-kind">{e.kind}</span>
        {e.environment === null ? null : (
          <a href={`/environments/${encodeURIComponent(e.environment)}`}>{e.environment}</a>
        )}
        <span class="event-actor">by {e.actor}</span>
        {e.runId === null ? null : (
          <a href={`/runs/${encodeURIComponent(e.runId)}`}>run {e.runId.slice(0, 8)}…</a>
        )}
      </div>
      <p class="event-summary">{summary(e)}</p>
      <p class="event-times">
        <time dateTime={e.at}>{timeIn(e.at, VIEWER_ZONE)}</time>
        {VIEWER_ZONE === 'UTC' ? null : (
          <>
            {' · '}
            <span>{timeIn(e.at, 'UTC')}</span>
          </>
        )}
      </p>
      {e.runId === null && e.resource === null && !payload ? null : (
        <details>
          <summary>Details</summary>
          <dl>
            {e.runId === null ? null : (
              <>
                <dt>Run</dt>
                <dd>
                  <a href={`/runs/${encodeURIComponent(e.runId)}`}>{e.runId}</a>
                </dd>
              </>
            )}
            {e.resource === null ? null : (
              <>
                <dt>Resource</dt>
                <dd>
                  <code>{e.resource}</code>
                </dd>
              </>
            )}
            <dt>Event</dt>
            <dd>#{e.id}</dd>
          </dl>
          {payload ? <pre>{JSON.stringify(e.payload, null, 2)}</pre> : null}
        </details>
      )}
    </li>
  );
}
