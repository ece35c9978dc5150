/**
 * The overview: every environment the caller may see, grouped by team, with its
 * state, its next transition and a countdown (times in the environment's zone,
 * named), filters by team, state and text; loading, empty and error states; and
 * the pending shutdowns with their "keep running" buttons (overview-pending.tsx).
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { EnvironmentSummary, RunSummary } from './api';
import { environments, recentRuns } from './api';
import { PendingShutdowns } from './overview-pending';
import type { ShownState } from './state';
import { countdown, inZone, newestRuns, shownState, STATES } from './state';

const REFRESH_MS = 30_000;
const NO_TEAM = '(no team)';

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | {
      readonly kind: 'ready';
      readonly list: readonly EnvironmentSummary[];
      /** Each environment's newest run (starting, stopping, failed come from runs). */
      readonly runs: ReadonlyMap<string, RunSummary>;
      /** The service's time minus this browser's, when the list came. */
      readonly offsetMs: number;
    };

export function Overview() {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [team, setTeam] = useState('');
  const [state, setState] = useState<ShownState | ''>('');
  const [text, setText] = useState('');
  const [tick, setTick] = useState(Date.now());

  const fetchList = () => {
    Promise.all([environments(), recentRuns()]).then(
      ([{ now, environments: list }, runs]) => {
        setLoad({
          kind: 'ready',
          list,
          runs: newestRuns(runs),
          offsetMs: Date.parse(now) - Date.now(),
        });
      },
      (error: unknown) => {
        setLoad({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
      },
    );
  };
  useEffect(() => {
    fetchList();
    const refresh = setInterval(fetchList, REFRESH_MS);
    const clock = setInterval(() => {
      setTick(Date.now());
    }, 1000);
    return () => {
      clearInterval(refresh);
      clearInterval(clock);
    };
  }, []);

  const list = load.kind === 'ready' ? load.list : [];
  const runs = load.kind === 'ready' ? load.runs : new Map<string, RunSummary>();
  const stateOf = (e: EnvironmentSummary) => shownState(e, runs.get(e.name));
  const teams = useMemo(
    () => [...new Set(list.map((e) => e.team ?? NO_TEAM))].sort((a, b) => a.localeCompare(b)),
    [list],
  );
  const needle = text.trim().toLowerCase();
  const shown = list.filter(
    (e) =>
      (team === '' || (e.team ?? NO_TEAM) === team) &&
      (state === '' || stateOf(e) === state) &&
      (needle === '' || e.name.toLowerCase().includes(needle)),
  );
  // Teams in alphabetical order, environments of no team last; names sorted in each.
  const groups = new Map<string, EnvironmentSummary[]>(
    teams.filter((t) => t !== NO_TEAM).map((t) => [t, []]),
  );
  for (const e of [...shown].sort((a, b) => a.name.localeCompare(b.name))) {
    const key = e.team ?? NO_TEAM;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const now = tick + (load.kind === 'ready' ? load.offsetMs : 0);

  return (
    <main class="page">
      <h1>Environments</h1>
      <form
        class="filters"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
        }}
      >
        <label>
          Team
          <select
            value={team}
            onChange={(e) => {
              setTeam(e.currentTarget.value);
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
          State
          <select
            value={state}
            onChange={(e) => {
              setState(e.currentTarget.value as ShownState | '');
            }}
          >
            <option value="">All states</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name
          <input
            type="search"
            value={text}
            placeholder="filter by name"
            onInput={(e) => {
              setText(e.currentTarget.value);
            }}
          />
        </label>
      </form>
      {load.kind === 'ready' ? (
        <PendingShutdowns runs={[...load.runs.values()]} now={now} onChanged={fetchList} />
      ) : null}
      {load.kind === 'loading' ? (
        <p aria-busy="true">Loading environments…</p>
      ) : load.kind === 'error' ? (
        <div class="error" role="alert">
          <p>Could not load the environments: {load.message}</p>
          <button
            type="button"
            onClick={() => {
              setLoad({ kind: 'loading' });
              fetchList();
            }}
          >
            Retry
          </button>
        </div>
      ) : list.length === 0 ? (
        <p class="empty">
          No environment to show: this token sees none. An admin token sees every environment; a
          team&apos;s token sees its team&apos;s, as the config&apos;s <code>team</code> says.
        </p>
      ) : shown.length === 0 ? (
        <p class="empty">
          No environment matches these filters.{' '}
          <button
            type="button"
            onClick={() => {
              setTeam('');
              setState('');
              setText('');
            }}
          >
            Clear filters
          </button>
        </p>
      ) : (
        [...groups]
          .filter(([, members]) => members.length > 0)
          .map(([name, members]) => (
            <section key={name} aria-labelledby={`team-${name}`}>
              <h2 id={`team-${name}`}>{name}</h2>
              <table class="environments">
                <thead>
                  <tr>
                    <th scope="col">Environment</th>
                    <th scope="col">State</th>
                    <th scope="col">Next</th>
                    <th scope="col">Resources</th>
                  </tr>
                </thead>
                <tbody>
                  {members.map((e) => (
                    <Row key={e.name} environment={e} state={stateOf(e)} now={now} />
                  ))}
                </tbody>
              </table>
            </section>
          ))
      )}
    </main>
  );
}

function Row({
  environment: e,
  state,
  now,
}: {
  environment: EnvironmentSummary;
  state: ShownState;
  now: number;
}) {
  const total = Object.values(e.resources).reduce((a, b) => a + b, 0);
  const parts = Object.entries(e.resources)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  return (
    <tr data-environment={e.name}>
      <th scope="row">
        <a href={`/environments/${encodeURIComponent(e.name)}`}>{e.name}</a>
      </th>
      <td>
        <span class={`state state-${state}`}>{state}</span>
      </td>
      <td>
        {e.next === null ? (
          <span class="muted">no change planned in 14 days</span>
        ) : (
          <>
            {e.next.state === 'on' ? 'starts' : 'stops'}{' '}
            <strong>{countdown(Date.parse(e.next.at), now)}</strong>
            <br />
            <time dateTime={e.next.at} class="muted">
              {inZone(e.next.at, e.timezone)}
            </time>
          </>
        )}
      </td>
      <td>{total === 0 ? <span class="muted">none seen yet</span> : parts}</td>
    </tr>
  );
}
