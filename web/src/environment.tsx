/**
 * One environment: its state and next change, its week (plan, what really
 * happened, runs; earlier and later weeks a click away), its schedule in plain
 * English, its resources by tier, and for operators the changes: reserve a
 * window (picked on the week or typed, read in the environment's zone and shown
 * in the viewer's too), keep on until, hold, start now, stop after the grace.
 */
import { useEffect, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { ApiError } from './api';
import type { EnvironmentDetail, ResourceRow, Timeline } from './environment-api';
import { environmentDetail, timeline as loadTimeline } from './environment-api';
import { Changes } from './environment-changes';
import { Plans } from './environment-plans';
import { canOperate, useMe } from './me';
import { countdown, inZone } from './state';
import { Week } from './week';
import './environment.css';

type Detail = Omit<EnvironmentDetail, 'resources'> & { resources: ResourceRow[] };

type Load<T> =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string; readonly missing: boolean }
  | { readonly kind: 'ready'; readonly value: T };

const DAY_MS = 86_400_000;
const REFRESH_MS = 30_000;

/** Adds days to a date such as 2026-12-01 (calendar days, no zone involved). */
function plusDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

const failed = (error: unknown) => ({
  kind: 'error' as const,
  message: error instanceof Error ? error.message : String(error),
  missing: error instanceof ApiError && error.status === 404,
});

export default function Environment() {
  const { params } = useRoute();
  const name = params.name ?? '';
  const me = useMe();
  const [detail, setDetail] = useState<Load<Detail>>({ kind: 'loading' });
  const [week, setWeek] = useState<Load<Timeline>>({ kind: 'loading' });
  /** The first day shown (in the environment's zone); undefined: the API's default, yesterday. */
  const [from, setFrom] = useState<string | undefined>();
  const [pick, setPick] = useState<{ from: number; to: number } | undefined>();
  /** The service's clock minus this browser's (a demo's runs faster), from the last answer. */
  const [offsetMs, setOffsetMs] = useState(0);
  const serviceNow = () => Date.now() + offsetMs;

  const loadDetail = () => {
    environmentDetail(name).then(
      (value) => {
        setDetail({ kind: 'ready', value });
      },
      (error: unknown) => {
        setDetail(failed(error));
      },
    );
  };
  const loadWeek = () => {
    loadTimeline(name, from).then(
      (value) => {
        setWeek({ kind: 'ready', value });
        setOffsetMs(Date.parse(value.now) - Date.now());
      },
      (error: unknown) => {
        setWeek(failed(error));
      },
    );
  };
  const reload = () => {
    loadDetail();
    loadWeek();
  };
  useEffect(loadDetail, [name]);
  useEffect(loadWeek, [name, from]);
  // Runs finish and the "now" line moves: both refresh while the page is open.
  useEffect(() => {
    const refresh = setInterval(reload, REFRESH_MS);
    return () => {
      clearInterval(refresh);
    };
  }, [name, from]);

  if (detail.kind === 'loading')
    return (
      <main class="page" aria-busy="true">
        <p>Loading {name}…</p>
      </main>
    );
  if (detail.kind === 'error')
    return (
      <main class="page">
        <h1>{name}</h1>
        <div class="error" role="alert">
          {detail.missing ? (
            <p>
              There is no environment &quot;{name}&quot; that you may see.{' '}
              <a href="/">See the environments</a>.
            </p>
          ) : (
            <>
              <p>
                Could not load {name}: {detail.message}
              </p>
              <button type="button" onClick={loadDetail}>
                Retry
              </button>
            </>
          )}
        </div>
      </main>
    );

  const e = detail.value;
  const first = week.kind === 'ready' ? week.value.days[0]?.date : undefined;
  const move = (days: number) => {
    if (first !== undefined) setFrom(plusDays(first, days));
  };
  return (
    <main class="page environment">
      <p class="crumbs">
        <a href="/">Environments</a> / {e.team ?? 'no team'}
      </p>
      <h1>{e.name}</h1>
      <p class="summary">
        Wanted <strong>{e.desired}</strong> now
        {e.next === null ? (
          ', no change planned in 14 days.'
        ) : (
          <>
            ; {e.next.state === 'on' ? 'starts' : 'stops'}{' '}
            <strong>{countdown(Date.parse(e.next.at), serviceNow())}</strong>,{' '}
            <time dateTime={e.next.at}>{inZone(e.next.at, e.timezone)}</time>.
          </>
        )}
      </p>
      <p class="schedule">
        {e.schedule === null ? (
          'No schedule: off unless a reservation or a hold says on.'
        ) : (
          <>
            Schedule <strong>{e.schedule.name}</strong>: {e.schedule.text}
          </>
        )}
      </p>

      <section aria-labelledby="week-title">
        <div class="section-head">
          <h2 id="week-title">
            Week <span class="muted">({e.timezone})</span>
          </h2>
          <div class="week-nav">
            <button
              type="button"
              onClick={() => {
                move(-7);
              }}
              disabled={first === undefined}
            >
              ← Earlier
            </button>
            <button
              type="button"
              onClick={() => {
                setFrom(undefined);
              }}
              disabled={from === undefined}
            >
              This week
            </button>
            <button
              type="button"
              onClick={() => {
                move(7);
              }}
              disabled={first === undefined}
            >
              Later →
            </button>
          </div>
        </div>
        {week.kind === 'loading' ? (
          <p aria-busy="true">Loading the week…</p>
        ) : week.kind === 'error' ? (
          <div class="error" role="alert">
            <p>Could not load the week: {week.message}</p>
            <button type="button" onClick={loadWeek}>
              Retry
            </button>
          </div>
        ) : (
          <Week
            timeline={week.value}
            {...(canOperate(me)
              ? {
                  onPick: (f: number, t: number) => {
                    setPick({ from: f, to: t });
                  },
                }
              : {})}
          />
        )}
      </section>

      {week.kind === 'loading' ? null : canOperate(me) ? (
        <Changes environment={e} pick={pick} now={serviceNow} onChanged={reload} />
      ) : (
        <p class="muted">You may look; changes need an operator&apos;s or an admin&apos;s token.</p>
      )}

      <Plans environment={e} canChange={canOperate(me)} onChanged={reload} />
      <Resources environment={e} />
    </main>
  );
}

/** Resources in tier order (the order a start takes; a stop goes backwards). */
function Resources({ environment: e }: { environment: Detail }) {
  if (e.resources.length === 0)
    return (
      <section aria-labelledby="resources-title">
        <h2 id="resources-title">Resources</h2>
        <p class="empty">
          None seen yet: resources are found when the environment first starts or stops, or by{' '}
          <code>lightsout discover</code>.
        </p>
      </section>
    );
  const groups = [...e.tiers, null].map((tier) => ({
    tier,
    members: e.resources.filter((r) => r.tier === tier),
  }));
  return (
    <section aria-labelledby="resources-title">
      <h2 id="resources-title">Resources</h2>
      {groups
        .filter((g) => g.members.length > 0)
        .map((g) => (
          <table key={g.tier ?? ''} class="resources">
            <caption>
              {g.tier === null
                ? 'In no tier now'
                : `Tier ${e.tiers.indexOf(g.tier) + 1}: ${g.tier}`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">State</th>
                <th scope="col" class="id">
                  Id
                </th>
              </tr>
            </thead>
            <tbody>
              {g.members.map((r) => (
                <tr key={r.id} data-resource={r.id}>
                  <th scope="row">{r.name}</th>
                  <td>{r.kind}</td>
                  <td>
                    <span class={`state state-${r.state}`}>{r.state}</span>
                  </td>
                  <td class="muted id">{r.id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </section>
  );
}
