/**
 * The savings page: what switching off saved (GET /api/v1/savings, measured from
 * the event log) over a window (last 7, 30 or 90 days, or dates), per day, week
 * or month: a chart per team or environment, then the table with totals, the
 * unpriced resources and the report's notes; then the projection of a schedule
 * change. Loading, empty and error states; every time names its zone.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { environments } from './api';
import { SavingsChart } from './savings-chart';
import type { By, EnvironmentSavings, GroupBy, Measure, SavingsReport } from './savings-data';
import {
  chartData,
  chartZone,
  formatMeasure,
  formatNumber,
  instantLabel,
  MEASURES,
  NO_TEAM,
  periodLabel,
  savingsReport,
  sum,
} from './savings-data';
import { ProjectionForm } from './savings-projection';
import './savings.css';

const DAY = 86_400_000;
type Span = '7' | '30' | '90' | 'custom';

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | {
      readonly kind: 'ready';
      readonly report: SavingsReport;
      /** Each environment's zone, from GET /api/v1/environments. */
      readonly zones: ReadonlyMap<string, string>;
    };

const dateOnly = (t: number) => new Date(t).toISOString().slice(0, 10);

export default function Savings() {
  const [span, setSpan] = useState<Span>('30');
  const [by, setBy] = useState<By>('day');
  const [group, setGroup] = useState<GroupBy>('team');
  const [measure, setMeasure] = useState<Measure>('money');
  const [customFrom, setCustomFrom] = useState('');
  const [customTo, setCustomTo] = useState('');
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (span === 'custom' && (customFrom === '' || customTo === '')) return;
    let current = true;
    setLoad({ kind: 'loading' });
    // The service's own time, not this browser's: a demo's clock runs ahead.
    environments()
      .then(async ({ now, environments: list }) => {
        const to = span === 'custom' ? `${customTo}T00:00:00Z` : now;
        const from =
          span === 'custom'
            ? `${customFrom}T00:00:00Z`
            : new Date(Date.parse(now) - Number(span) * DAY).toISOString();
        // A custom window ends at the end of its last day.
        const end = span === 'custom' ? new Date(Date.parse(to) + DAY).toISOString() : to;
        const report = await savingsReport(from, end, by);
        if (current)
          setLoad({
            kind: 'ready',
            report,
            zones: new Map(list.map((e) => [e.name, e.timezone])),
          });
      })
      .catch((error: unknown) => {
        if (current)
          setLoad({
            kind: 'error',
            message: error instanceof Error ? error.message : String(error),
          });
      });
    return () => {
      current = false;
    };
  }, [span === 'custom' ? `${customFrom}..${customTo}` : span, by, attempt]);

  return (
    <main class="page savings">
      <h1>Savings</h1>
      <p class="muted">
        Measured from what lightsout did (the event log): hours switched off, and what they saved at
        list price. Energy and carbon are estimates.
      </p>
      <form
        class="filters"
        aria-label="Savings window"
        onSubmit={(e) => {
          e.preventDefault();
        }}
      >
        <label>
          Window
          <select
            value={span}
            onChange={(e) => {
              const next = e.currentTarget.value as Span;
              // Dates start as the window shown.
              if (next === 'custom' && customFrom === '' && load.kind === 'ready') {
                setCustomFrom(dateOnly(Date.parse(load.report.from)));
                setCustomTo(dateOnly(Date.parse(load.report.to)));
              }
              setSpan(next);
            }}
          >
            <option value="7">Last 7 days</option>
            <option value="30">Last 30 days</option>
            <option value="90">Last 90 days</option>
            <option value="custom">Dates…</option>
          </select>
        </label>
        {span === 'custom' ? (
          <>
            <label>
              From (UTC)
              <input
                type="date"
                value={customFrom}
                max={customTo}
                onChange={(e) => {
                  setCustomFrom(e.currentTarget.value);
                }}
              />
            </label>
            <label>
              To (UTC, whole day)
              <input
                type="date"
                value={customTo}
                min={customFrom}
                onChange={(e) => {
                  setCustomTo(e.currentTarget.value);
                }}
              />
            </label>
          </>
        ) : null}
        <label>
          Per
          <select
            value={by}
            onChange={(e) => {
              setBy(e.currentTarget.value as By);
            }}
          >
            <option value="day">day</option>
            <option value="week">week</option>
            <option value="month">month</option>
          </select>
        </label>
        <label>
          Chart by
          <select
            value={group}
            onChange={(e) => {
              setGroup(e.currentTarget.value as GroupBy);
            }}
          >
            <option value="team">team</option>
            <option value="environment">environment</option>
          </select>
        </label>
        <label>
          Show
          <select
            value={measure}
            onChange={(e) => {
              setMeasure(e.currentTarget.value as Measure);
            }}
          >
            {MEASURES.map((m) => (
              <option key={m.key} value={m.key}>
                {m.label} ({m.unit})
              </option>
            ))}
          </select>
        </label>
      </form>
      {load.kind === 'loading' ? (
        <p aria-busy="true">Loading the savings…</p>
      ) : load.kind === 'error' ? (
        <div class="error" role="alert">
          <p>Could not load the savings: {load.message}</p>
          <p>Check the window, then retry.</p>
          <button
            type="button"
            onClick={() => {
              setAttempt((n) => n + 1);
            }}
          >
            Retry
          </button>
        </div>
      ) : (
        <Report report={load.report} zones={load.zones} by={by} group={group} measure={measure} />
      )}
      <ProjectionForm />
    </main>
  );
}

function Report({
  report,
  zones,
  by,
  group,
  measure,
}: {
  report: SavingsReport;
  zones: ReadonlyMap<string, string>;
  by: By;
  group: GroupBy;
  measure: Measure;
}) {
  const window = `from ${instantLabel(report.from)} to ${instantLabel(report.to)}`;
  const zone = chartZone(report.environments.map((e) => zones.get(e.environment) ?? 'UTC'));
  const data = useMemo(() => chartData(report, group, measure), [report, group, measure]);
  if (report.environments.length === 0)
    return (
      <p class="empty">
        No environment to show: this token sees none. An admin token sees every environment; a
        team&apos;s token sees its team&apos;s.
      </p>
    );
  if (report.totals.hoursOff === 0)
    return (
      <div class="empty" data-empty="savings">
        <p>
          <strong>Nothing was switched off {window}.</strong>
        </p>
        <p>
          Savings appear here once lightsout stops an environment you can see: at its next scheduled
          stop (the Environments page shows when), or a stop asked for by hand. Each night and
          weekend off adds to them; the projection below shows what the schedules will save.
        </p>
      </div>
    );
  const unit = MEASURES.find((m) => m.key === measure)!;
  const ranked = data.series
    .map((s) => ({ label: s.label, total: s.values.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total);
  // A series whose money is 0 because nothing of it has a price says so, not "$0.00".
  const unpricedLabels = new Set(
    report.environments
      .filter((e) => e.unpriced.length > 0)
      .map((e) => (group === 'team' ? (e.team ?? NO_TEAM) : e.environment)),
  );
  const shownTotal = (label: string, total: number) =>
    measure === 'money' && total === 0 && unpricedLabels.has(label)
      ? 'no price known'
      : formatMeasure(measure, total);
  const caption =
    `${unit.label} per ${by} by ${group}, ${window}, stacked; periods start in ${zone}. ` +
    `${ranked.map((s) => `${s.label}: ${shownTotal(s.label, s.total)}`).join('; ')}. ` +
    'The tables below hold every value.';
  return (
    <>
      <p class="window">
        <strong>{formatMeasure('money', report.totals.money)}</strong> saved,{' '}
        <strong>{formatMeasure('hoursSaved', report.totals.hoursSaved)}</strong> of resources off,{' '}
        {window}.
      </p>
      {data.starts.length === 0 ? null : (
        <SavingsChart data={data} measure={measure} by={by} zone={zone} caption={caption} />
      )}
      <SavingsTable report={report} />
      <PeriodTable
        report={report}
        data={data}
        by={by}
        zone={zone}
        measure={measure}
        group={group}
      />
      <h2>What the figures count</h2>
      <ul class="notes">
        {report.notes.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
    </>
  );
}

/** Per team, its environments and their totals; the grand total last. */
function SavingsTable({ report }: { report: SavingsReport }) {
  const teams = new Map<string, EnvironmentSavings[]>();
  for (const e of [...report.environments].sort((a, b) =>
    a.environment.localeCompare(b.environment),
  )) {
    const team = e.team ?? NO_TEAM;
    teams.set(team, [...(teams.get(team) ?? []), e]);
  }
  const order = [...teams.keys()].sort((a, b) =>
    a === NO_TEAM ? 1 : b === NO_TEAM ? -1 : a.localeCompare(b),
  );
  return (
    <>
      <h2 id="savings-table-heading">By team and environment</h2>
      <div class="scroll">
        <table class="savings-table" aria-labelledby="savings-table-heading">
          <thead>
            <tr>
              <th scope="col">Team / environment</th>
              <th scope="col">Hours off (h)</th>
              <th scope="col">Hours saved (h)</th>
              <th scope="col">Money (USD)</th>
              <th scope="col">Energy (kWh, estimate)</th>
              <th scope="col">Carbon (kg CO2e, estimate)</th>
              <th scope="col">Unpriced resources</th>
            </tr>
          </thead>
          {order.map((team) => {
            const members = teams.get(team)!;
            const total = sum(members);
            return (
              <tbody key={team} data-team={team}>
                {members.map((e) => (
                  <tr key={e.environment} data-environment={e.environment}>
                    <th scope="row">
                      <a href={`/environments/${encodeURIComponent(e.environment)}`}>
                        {e.environment}
                      </a>
                    </th>
                    <Cells figures={e} unmeasured={e.unmeasured.length > 0} />
                    <td>
                      {e.unpriced.length === 0 ? (
                        <span class="muted">none</span>
                      ) : (
                        <ul class="unpriced">
                          {e.unpriced.map((r) => (
                            <li key={r}>
                              <code>{r}</code>
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
                <tr class="subtotal" data-total={team}>
                  <th scope="row">Team {team}</th>
                  <Cells
                    figures={total}
                    unmeasured={members.some((e) => e.unmeasured.length > 0)}
                  />
                  <td>
                    {members.reduce((n, e) => n + e.unpriced.length, 0) || (
                      <span class="muted">none</span>
                    )}
                  </td>
                </tr>
              </tbody>
            );
          })}
          <tfoot>
            <tr class="total" data-total="all">
              <th scope="row">All</th>
              <Cells
                figures={report.totals}
                unmeasured={report.environments.some((e) => e.unmeasured.length > 0)}
              />
              <td>
                {report.environments.reduce((n, e) => n + e.unpriced.length, 0) || (
                  <span class="muted">none</span>
                )}
              </td>
            </tr>
          </tfoot>
        </table>
      </div>
      <p class="muted">
        Hours are resource hours: each resource off for an hour counts one. Unpriced resources are
        counted in hours, not in money. Energy is not known for resources of unknown size, carbon
        for those of no known region (such as the demo&apos;s simulated ones).
      </p>
    </>
  );
}

/**
 * Hours, money, energy and carbon; "not known" where nothing was counted for
 * resources the report could not measure (no size: no energy; no region: no carbon),
 * so that a 0 is never shown for what is unknown.
 */
function Cells({
  figures: f,
  unmeasured,
}: {
  figures: Omit<EnvironmentSavings['periods'][number], 'start'>;
  unmeasured: boolean;
}) {
  const unknown = <span class="muted">not known</span>;
  return (
    <>
      <td data-measure="hoursOff">{formatNumber('hoursOff', f.hoursOff)}</td>
      <td data-measure="hoursSaved">{formatNumber('hoursSaved', f.hoursSaved)}</td>
      <td data-measure="money">{formatNumber('money', f.money)}</td>
      <td data-measure="kwh">{f.kwh === 0 && unmeasured ? unknown : formatNumber('kwh', f.kwh)}</td>
      <td data-measure="kgCo2e">
        {f.kgCo2e === 0 && (unmeasured || f.kwh > 0) ? unknown : formatNumber('kgCo2e', f.kgCo2e)}
      </td>
    </>
  );
}

/** The chart's data in full: one row per period, one column per team or environment. */
function PeriodTable({
  report,
  data,
  by,
  zone,
  measure,
  group,
}: {
  report: SavingsReport;
  data: ReturnType<typeof chartData>;
  by: By;
  zone: string;
  measure: Measure;
  group: GroupBy;
}) {
  const unit = MEASURES.find((m) => m.key === measure)!;
  if (data.starts.length === 0) return null;
  return (
    <details class="periods">
      <summary>
        The chart&apos;s data: {unit.label.toLowerCase()} per {by} and {group} ({data.starts.length}{' '}
        {by === 'day' ? 'days' : `${by}s`})
      </summary>
      <div class="scroll">
        <table data-periods={by}>
          <thead>
            <tr>
              <th scope="col">
                {by === 'month' ? 'Month' : by === 'week' ? 'Week of' : 'Day'} ({zone})
              </th>
              {data.series.map((s) => (
                <th key={s.label} scope="col">
                  {s.label} ({unit.unit})
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.starts.map((start, i) => (
              <tr key={start}>
                <th scope="row">
                  <time dateTime={new Date(start).toISOString()}>
                    {periodLabel(start, by, zone)}
                  </time>
                </th>
                {data.series.map((s) => (
                  <td key={s.label}>{formatMeasure(measure, s.values[i] ?? 0)}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {report.environments.some((e) => e.periods.length > 0) ? (
        <p class="muted">Each environment&apos;s periods are cut in its own time zone.</p>
      ) : null}
    </details>
  );
}
