/**
 * The run page: one run's header (its environment, direction, what triggered it
 * and who, its status and times in the environment's zone), its steps tier by
 * tier with each resource's outcome (a failure with the cloud's reason), who
 * cancelled it (tiers in the order they act: a stop's last tier first); kept live by the run's stream (or by reading it, when the stream
 * fails), and saying which. Operators may cancel a stop during its grace, after
 * confirming; viewers see no button (and the API refuses them).
 */
import { useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { canOperate, useMe } from './me';
import type { RunDetail, RunStep, StepStatus } from './run-api';
import { atSecond, cancelRun } from './run-api';
import type { Link } from './run-live';
import { useRunFeed } from './run-live';
import './run.css';

const STATUS_TEXT: Record<RunDetail['status'], string> = {
  grace: 'in its grace',
  acting: 'acting',
  succeeded: 'done',
  failed: 'failed',
  cancelled: 'cancelled',
  superseded: 'superseded',
};

const OUTCOME_TEXT: Record<StepStatus, string> = {
  pending: 'waiting',
  acted: 'called, settling',
  done: 'done',
  already: 'already so',
  failed: 'failed',
  skipped: 'skipped',
};

const TRIGGER_TEXT: Record<string, string> = {
  schedule: 'its schedule',
  adhoc: 'a command',
  'catch-up': 'a catch-up after downtime',
  enforce: 'enforce mode (drift corrected)',
  'auto-restart': 'a resource that restarted by itself',
  reservation: 'a reservation',
  retry: 'a retry of a run that did not reach its state',
};

const LINK_TEXT: Record<Link, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'not live: read every 3 s (the stream is unavailable)',
  over: 'final',
};

export default function Run() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const { feed, link, refresh } = useRunFeed(id);

  if (feed.kind === 'loading')
    return (
      <main class="page">
        <h1>Run</h1>
        <p aria-busy="true">Loading the run…</p>
      </main>
    );
  if (feed.kind === 'not-found')
    return (
      <main class="page">
        <h1>Run not found</h1>
        <p class="empty">
          There is no run <code>{id}</code> that this token may see: it may belong to another team,
          or the link is cut short. <a href="/">See the environments</a> and their runs.
        </p>
      </main>
    );
  if (feed.kind === 'error')
    return (
      <main class="page">
        <h1>Run</h1>
        <div class="error" role="alert">
          <p>Could not load the run: {feed.message}</p>
          <p>The page tries again every 3 seconds.</p>
          <button type="button" onClick={refresh}>
            Retry now
          </button>
        </div>
      </main>
    );
  return <RunView run={feed.run} link={link} onChanged={refresh} />;
}

function RunView({ run, link, onChanged }: { run: RunDetail; link: Link; onChanged: () => void }) {
  const me = useMe();
  const zone = run.timezone;
  const at = (iso: string) => <time dateTime={iso}>{atSecond(iso, zone)}</time>;
  const tiers = new Map<number, RunStep[]>();
  for (const step of run.steps) tiers.set(step.tier, [...(tiers.get(step.tier) ?? []), step]);
  const cancellable = run.direction === 'stop' && run.status === 'grace' && canOperate(me);
  const failed = run.steps.filter((s) => s.status === 'failed').length;

  return (
    <main class="page run-page">
      <p class="crumbs">
        <a href={`/environments/${encodeURIComponent(run.environment)}`}>{run.environment}</a> › run
      </p>
      <h1>
        {run.direction === 'stop' ? 'Stop' : run.direction === 'start' ? 'Start' : 'Boost'} of{' '}
        {run.environment}{' '}
        <span class={`run-status run-${run.status}`} data-status={run.status}>
          {STATUS_TEXT[run.status]}
        </span>
      </h1>
      <p class={`run-link link-${link}`} role="status" aria-live="polite">
        <span aria-hidden="true">{link === 'live' ? '● ' : ''}</span>
        {LINK_TEXT[link]}
      </p>
      <dl class="run-facts">
        <dt>Environment</dt>
        <dd>
          <a href={`/environments/${encodeURIComponent(run.environment)}`}>{run.environment}</a>
        </dd>
        <dt>Triggered by</dt>
        <dd>
          {TRIGGER_TEXT[run.trigger] ?? run.trigger}, as <strong>{run.actor}</strong>
        </dd>
        <dt>{run.direction === 'stop' ? 'Warned at' : 'Made at'}</dt>
        <dd>{at(run.createdAt)}</dd>
        <dt>{run.status === 'grace' ? 'Acts at' : 'Acted at'}</dt>
        <dd>
          {run.status === 'cancelled' || run.status === 'superseded' ? (
            <span class="muted">never (was due {atSecond(run.actAt, zone)})</span>
          ) : (
            at(run.actAt)
          )}
        </dd>
        {run.until === undefined ? null : (
          <>
            <dt>Boost ends</dt>
            <dd>{at(run.until)}</dd>
          </>
        )}
        <dt>Finished</dt>
        <dd>{run.finishedAt === null ? <span class="muted">not yet</span> : at(run.finishedAt)}</dd>
        {run.cancelled === null ? null : (
          <>
            <dt>Cancelled</dt>
            <dd class="cancelled-by">
              by <strong>{run.cancelled.by}</strong> at {at(run.cancelled.at)}
              {run.cancelled.keepOnUntil === undefined ? null : (
                <>; it keeps running until {at(run.cancelled.keepOnUntil)}</>
              )}
            </dd>
          </>
        )}
      </dl>
      {cancellable ? <CancelStop run={run} onChanged={onChanged} /> : null}
      <h2>Steps</h2>
      {failed > 0 ? (
        <p class="error" role="alert">
          {failed} {failed === 1 ? 'resource' : 'resources'} failed: the cloud&apos;s reason is
          under each. Later tiers may have been skipped.
        </p>
      ) : null}
      {run.steps.length === 0 ? (
        <p class="empty">
          {run.status === 'grace'
            ? `No steps yet: the run lists its resources when it starts acting, at ${atSecond(run.actAt, zone)}.`
            : run.status === 'cancelled' || run.status === 'superseded'
              ? 'No steps: the run ended before it acted.'
              : 'No steps: the run had no resource to act on.'}
        </p>
      ) : (
        // In the order they act: a stop acts on the last tier first (apps before their database).
        [...tiers]
          .sort(([a], [b]) => (run.direction === 'stop' ? b - a : a - b))
          .map(([tier, steps], index) => (
            <section key={tier} aria-labelledby={`tier-${tier}`}>
              <h3 id={`tier-${tier}`}>
                Tier {tier + 1}
                {tiers.size > 1 ? (
                  <span class="muted">
                    {' '}
                    · acts {index === 0 ? 'first' : index === tiers.size - 1 ? 'last' : 'next'}
                  </span>
                ) : null}
              </h3>
              <table class="steps">
                <thead>
                  <tr>
                    <th scope="col">Resource</th>
                    <th scope="col">Action</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Attempts</th>
                  </tr>
                </thead>
                <tbody>
                  {steps.map((s) => (
                    <tr
                      key={`${s.resource} ${s.action}`}
                      data-step={s.resource}
                      data-status={s.status}
                    >
                      <th scope="row">
                        <code>{s.resource}</code>
                      </th>
                      <td>{s.action}</td>
                      <td>
                        <span class={`outcome outcome-${s.status}`}>{OUTCOME_TEXT[s.status]}</span>
                        {s.error === null ? null : <p class="step-error">{s.error}</p>}
                        {s.finishedAt === null ? null : (
                          <span class="muted step-time"> {atSecond(s.finishedAt, zone)}</span>
                        )}
                      </td>
                      <td>{s.attempts}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          ))
      )}
    </main>
  );
}

/** Cancel a stop in its grace: asks first; it keeps running until the schedule's next stop. */
function CancelStop({ run, onChanged }: { run: RunDetail; onChanged: () => void }) {
  const [step, setStep] = useState<'idle' | 'confirm' | 'sending'>('idle');
  const [error, setError] = useState<string | undefined>();
  const [done, setDone] = useState<string | undefined>();
  const send = () => {
    setStep('sending');
    setError(undefined);
    cancelRun(run.id).then(
      ({ onUntil }) => {
        setDone(
          `Cancelled: ${run.environment} keeps running until ${atSecond(onUntil, run.timezone)}.`,
        );
        setStep('idle');
        onChanged();
      },
      (failure: unknown) => {
        setError(
          `Could not cancel the stop: ${failure instanceof Error ? failure.message : String(failure)}`,
        );
        setStep('confirm');
      },
    );
  };
  return (
    <section class="cancel-stop" aria-label="Cancel this stop">
      {done === undefined ? null : <p role="status">{done}</p>}
      {step === 'idle' ? (
        <button
          type="button"
          class="danger"
          onClick={() => {
            setStep('confirm');
          }}
        >
          Cancel this stop…
        </button>
      ) : (
        <div class="confirm" role="group" aria-labelledby="confirm-cancel">
          <p id="confirm-cancel">
            Cancel the stop of <strong>{run.environment}</strong> due at{' '}
            {atSecond(run.actAt, run.timezone)}? It keeps running until its schedule&apos;s next
            stop.
          </p>
          <button type="button" disabled={step === 'sending'} onClick={send}>
            Yes, cancel the stop
          </button>{' '}
          <button
            type="button"
            class="secondary"
            disabled={step === 'sending'}
            onClick={() => {
              setStep('idle');
              setError(undefined);
            }}
          >
            No, let it stop
          </button>
        </div>
      )}
      {error === undefined ? null : (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
