/**
 * The overview's pending shutdowns: each environment whose stop is in its grace
 * (its warning went out), when it stops, a link to the run, and for operators the
 * warning's own "keep running" choices. A choice cancels the stop with the `until`
 * the warning's link would use (POST /api/v1/runs/:id/cancel), so the page does
 * exactly what the notice does; viewers see the warning only.
 */
import { useEffect, useState } from 'preact/hooks';
import type { RunSummary } from './api';
import { canOperate, useMe } from './me';
import type { RunDetail } from './run-api';
import { cancelRun, runDetail } from './run-api';
import { countdown, inZone } from './state';
import './pending.css';

export function PendingShutdowns({
  runs,
  now,
  onChanged,
}: {
  /** Each environment's newest run. */
  runs: readonly RunSummary[];
  /** The service's time now. */
  now: number;
  onChanged: () => void;
}) {
  const pending = runs.filter((r) => r.direction === 'stop' && r.status === 'grace');
  const key = pending.map((r) => r.id).join(',');
  const [details, setDetails] = useState<ReadonlyMap<string, RunDetail>>(new Map());
  const [failure, setFailure] = useState<string | undefined>();
  const [said, setSaid] = useState<string | undefined>();

  useEffect(() => {
    if (pending.length === 0) return;
    let stale = false;
    Promise.all(pending.map((r) => runDetail(r.id))).then(
      (list) => {
        if (!stale) setDetails(new Map(list.map((d) => [d.id, d])));
      },
      (error: unknown) => {
        if (!stale)
          setFailure(
            `Could not read the pending stops: ${error instanceof Error ? error.message : String(error)}`,
          );
      },
    );
    return () => {
      stale = true;
    };
  }, [key]);

  if (pending.length === 0 && said === undefined) return null;
  const shown = pending.flatMap((r) => {
    const detail = details.get(r.id);
    return detail === undefined || detail.status !== 'grace' ? [] : [detail];
  });
  return (
    <section class="pending" aria-labelledby="pending-title">
      <h2 id="pending-title">Pending shutdowns</h2>
      {said === undefined ? null : <p role="status">{said}</p>}
      {failure === undefined ? null : (
        <p class="error" role="alert">
          {failure}. Reload the page to try again.
        </p>
      )}
      {pending.length > 0 && shown.length === 0 && failure === undefined ? (
        <p aria-busy="true">Loading the pending stops…</p>
      ) : null}
      <ul>
        {shown.map((run) => (
          <Pending
            key={run.id}
            run={run}
            now={now}
            onKept={(text) => {
              setSaid(text);
              onChanged();
            }}
          />
        ))}
      </ul>
    </section>
  );
}

function Pending({
  run,
  now,
  onKept,
}: {
  run: RunDetail;
  now: number;
  onKept: (said: string) => void;
}) {
  const me = useMe();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const zone = run.timezone;
  const keep = (until: string) => {
    setBusy(true);
    setError(undefined);
    cancelRun(run.id, until).then(
      ({ onUntil }) => {
        onKept(
          `${run.environment} keeps running until ${inZone(onUntil, zone)}; its stop is called off.`,
        );
      },
      (failure: unknown) => {
        setBusy(false);
        setError(
          `Could not keep ${run.environment} running: ${failure instanceof Error ? failure.message : String(failure)}`,
        );
      },
    );
  };
  return (
    <li data-pending={run.environment}>
      <a href={`/runs/${encodeURIComponent(run.id)}`}>
        <strong>{run.environment}</strong> stops {countdown(Date.parse(run.actAt), now)}
      </a>
      , at <time dateTime={run.actAt}>{inZone(run.actAt, zone)}</time>{' '}
      <span class="muted">(warned by {run.actor})</span>
      {canOperate(me) ? (
        <div class="actions">
          {run.keepRunning.map((choice) => (
            <button
              key={choice.action}
              type="button"
              disabled={busy}
              aria-label={`${choice.label}: ${run.environment}, until ${inZone(choice.until, zone)}`}
              onClick={() => {
                keep(choice.until);
              }}
            >
              {choice.label}
            </button>
          ))}
        </div>
      ) : null}
      {error === undefined ? null : (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
