/**
 * "What if": pick an environment and a proposed schedule (one of the config's,
 * or office hours), see what the next 30 days would save now and with it
 * (GET /api/v1/savings/projection, the API's `lightsout plan --savings --proposed`).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Projection, ProjectedFigures } from './savings-data';
import { formatMeasure, instantLabel, projection } from './savings-data';

type Load =
  | { readonly kind: 'loading' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ready'; readonly choices: Projection };

type Answer =
  | { readonly kind: 'none' }
  | { readonly kind: 'asking' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ready'; readonly projection: Projection };

const DAYS = [
  { value: 'mon-fri', label: 'Monday to Friday' },
  { value: 'mon-sat', label: 'Monday to Saturday' },
  { value: 'daily', label: 'Every day' },
] as const;

const ROWS: readonly { readonly key: keyof ProjectedFigures; readonly label: string }[] = [
  { key: 'hoursOff', label: 'Hours the environment is off' },
  { key: 'resourceHoursSaved', label: 'Resource hours saved' },
  { key: 'money', label: 'Money saved (USD, priced resources)' },
  { key: 'kwh', label: 'Energy saved (kWh, estimate)' },
  { key: 'kgCo2e', label: 'Carbon avoided (kg CO2e, estimate)' },
];

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function ProjectionForm() {
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [environment, setEnvironment] = useState('');
  const [kind, setKind] = useState<'named' | 'hours'>('hours');
  const [schedule, setSchedule] = useState('');
  const [days, setDays] = useState('mon-fri');
  const [start, setStart] = useState('08:00');
  const [stop, setStop] = useState('18:00');
  const [answer, setAnswer] = useState<Answer>({ kind: 'none' });

  const fetchChoices = () => {
    setLoad({ kind: 'loading' });
    projection({}).then(
      (choices) => {
        setLoad({ kind: 'ready', choices });
        setEnvironment((e) => (e === '' ? (choices.environments[0]?.environment ?? '') : e));
        setSchedule((s) => (s === '' ? (choices.schedules[0]?.name ?? '') : s));
      },
      (error: unknown) => {
        setLoad({ kind: 'error', message: message(error) });
      },
    );
  };
  useEffect(fetchChoices, []);

  const ask = () => {
    setAnswer({ kind: 'asking' });
    const proposal: Record<string, string> =
      kind === 'named' ? { schedule } : { days, start, stop };
    projection({ environment, ...proposal }).then(
      (p) => {
        setAnswer({ kind: 'ready', projection: p });
      },
      (error: unknown) => {
        setAnswer({ kind: 'error', message: message(error) });
      },
    );
  };

  return (
    <section aria-labelledby="projection-heading" class="projection">
      <h2 id="projection-heading">Project a schedule change</h2>
      {load.kind === 'loading' ? (
        <p aria-busy="true">Loading the environments and schedules…</p>
      ) : load.kind === 'error' ? (
        <div class="error" role="alert">
          <p>Could not load the environments and schedules to project: {load.message}</p>
          <button type="button" onClick={fetchChoices}>
            Retry
          </button>
        </div>
      ) : load.choices.environments.length === 0 ? (
        <p class="empty">No environment to project: this token sees none.</p>
      ) : (
        <>
          <p class="muted">
            What the next 30 days would save with the current plan and with a proposed schedule,
            from the schedules, reservations and holds, on the resources lightsout has found.
          </p>
          <form
            class="projection-form"
            onSubmit={(e) => {
              e.preventDefault();
              ask();
            }}
          >
            <label>
              Environment
              <select
                value={environment}
                onChange={(e) => {
                  setEnvironment(e.currentTarget.value);
                }}
              >
                {load.choices.environments.map((e) => (
                  <option key={e.environment} value={e.environment}>
                    {e.environment}
                    {e.team === null ? '' : ` (${e.team})`}
                  </option>
                ))}
              </select>
            </label>
            <fieldset>
              <legend>Proposed schedule</legend>
              <label class="choice">
                <input
                  type="radio"
                  name="proposal"
                  checked={kind === 'hours'}
                  onChange={() => {
                    setKind('hours');
                  }}
                />
                Office hours
              </label>
              <label class="choice">
                <input
                  type="radio"
                  name="proposal"
                  checked={kind === 'named'}
                  disabled={load.choices.schedules.length === 0}
                  onChange={() => {
                    setKind('named');
                  }}
                />
                A schedule of the config
              </label>
              {kind === 'hours' ? (
                <div class="inline">
                  <label>
                    Days
                    <select
                      value={days}
                      onChange={(e) => {
                        setDays(e.currentTarget.value);
                      }}
                    >
                      {DAYS.map((d) => (
                        <option key={d.value} value={d.value}>
                          {d.label}
                        </option>
                      ))}
                    </select>
                  </label>
                  <label>
                    On at
                    <input
                      type="time"
                      required
                      value={start}
                      onInput={(e) => {
                        setStart(e.currentTarget.value);
                      }}
                    />
                  </label>
                  <label>
                    Off at
                    <input
                      type="time"
                      required
                      value={stop}
                      onInput={(e) => {
                        setStop(e.currentTarget.value);
                      }}
                    />
                  </label>
                  <p class="hint">
                    In the environment&apos;s zone (
                    {load.choices.environments.find((e) => e.environment === environment)
                      ?.timezone ?? 'its zone'}
                    ).
                  </p>
                </div>
              ) : (
                <label>
                  Schedule
                  <select
                    value={schedule}
                    onChange={(e) => {
                      setSchedule(e.currentTarget.value);
                    }}
                  >
                    {load.choices.schedules.map((s) => (
                      <option key={s.name} value={s.name}>
                        {s.name}: {s.text}
                      </option>
                    ))}
                  </select>
                </label>
              )}
            </fieldset>
            <div>
              <button type="submit" disabled={answer.kind === 'asking'}>
                Project
              </button>
            </div>
          </form>
          <div aria-live="polite">
            {answer.kind === 'asking' ? (
              <p aria-busy="true">Projecting…</p>
            ) : answer.kind === 'error' ? (
              <div class="error" role="alert">
                <p>The projection failed: {answer.message}</p>
                <p>Change the proposal, then project again.</p>
              </div>
            ) : answer.kind === 'ready' ? (
              <ProjectionTable projection={answer.projection} />
            ) : null}
          </div>
        </>
      )}
    </section>
  );
}

function ProjectionTable({ projection: p }: { projection: Projection }) {
  const line = p.environments[0];
  if (line === undefined || line.proposed === null || p.proposed === null) return null;
  const proposed = line.proposed;
  // Energy or carbon of 0 for hours saved: not counted (unknown size or region), not nothing.
  const unknown = (key: keyof ProjectedFigures, f: ProjectedFigures) =>
    (key === 'kwh' || key === 'kgCo2e') && f[key] === 0 && f.resourceHoursSaved > 0;
  const shown = (key: keyof ProjectedFigures, f: ProjectedFigures) =>
    unknown(key, f)
      ? 'not known'
      : formatMeasure(key === 'money' ? 'money' : measureOf(key), f[key]);
  const change = (key: keyof ProjectedFigures) => {
    if (unknown(key, line.current) || unknown(key, proposed)) return 'not known';
    const d = proposed[key] - line.current[key];
    if (Math.abs(d) < 1e-9) return 'the same';
    const text = formatMeasure(key === 'money' ? 'money' : measureOf(key), Math.abs(d));
    return d > 0 ? `${text} more` : `${text} less`;
  };
  return (
    <div class="projection-answer" data-projection={line.environment}>
      <table>
        <caption>
          {line.environment}, from {instantLabel(p.from)} to {instantLabel(p.to)}
        </caption>
        <thead>
          <tr>
            <th scope="col">Projected</th>
            <th scope="col">
              Now
              <span class="schedule-text">
                {line.schedule === null ? 'no schedule: off unless reserved' : line.schedule.text}
              </span>
            </th>
            <th scope="col">
              Proposed
              <span class="schedule-text">{p.proposed.text}</span>
            </th>
            <th scope="col">Difference</th>
          </tr>
        </thead>
        <tbody>
          {ROWS.map((r) => (
            <tr key={r.key} data-measure={r.key}>
              <th scope="row">{r.label}</th>
              <td>{shown(r.key, line.current)}</td>
              <td>{shown(r.key, proposed)}</td>
              <td>{change(r.key)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {line.current.unpriced > 0 ? (
        <p class="muted">
          {line.current.unpriced} of its {line.current.resources} resources have no price: counted
          in hours, not in money.
        </p>
      ) : null}
      {line.current.resources === 0 ? (
        <p class="muted">
          lightsout has not found its resources yet (its first run will): resource hours, money and
          carbon count them.
        </p>
      ) : null}
    </div>
  );
}

function measureOf(
  key: keyof ProjectedFigures,
): 'hoursOff' | 'resourceHoursSaved' | 'kwh' | 'kgCo2e' {
  return key === 'kwh' || key === 'kgCo2e' || key === 'hoursOff' ? key : 'resourceHoursSaved';
}
