/**
 * What an operator changes on an environment: reserve a window, keep it on
 * until a time, hold it on or off, start it now, stop it after its grace (asked
 * first, with the grace and when it will stop). Times are typed, or picked on
 * the week, in the environment's zone; each is also shown in the viewer's zone.
 * The API checks the role again: a viewer's request is refused there too.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import type { EnvironmentDetail } from './environment-api';
import { extend, hold, reserve, startNow, stopAfterGrace } from './environment-api';
import { dayClockIn, instantOf, localValue, viewerZone } from './zone-time';

interface Props {
  readonly environment: Pick<EnvironmentDetail, 'name' | 'timezone' | 'graceMs'>;
  /** A window dragged out on the week. */
  readonly pick: { readonly from: number; readonly to: number } | undefined;
  /** The service's time now (a demo's clock runs faster than the browser's). */
  readonly now: () => number;
  readonly onChanged: () => void;
}

type Outcome = { readonly ok: boolean; readonly text: string } | undefined;

const HOUR = 3_600_000;

export function Changes({ environment: e, pick, now, onChanged }: Props) {
  const zone = e.timezone;
  const [from, setFrom] = useState(() => localValue(now() + HOUR, zone).slice(0, 14) + '00');
  const [to, setTo] = useState(() => localValue(now() + 5 * HOUR, zone).slice(0, 14) + '00');
  const [note, setNote] = useState('');
  const [until, setUntil] = useState(() => localValue(now() + 3 * HOUR, zone).slice(0, 14) + '00');
  const [outcome, setOutcome] = useState<Outcome>();
  const [busy, setBusy] = useState(false);
  const confirmStop = useRef<HTMLDialogElement>(null);
  const { route } = useLocation();

  useEffect(() => {
    if (pick === undefined) return;
    setFrom(localValue(pick.from, zone));
    setTo(localValue(pick.to, zone));
    document.getElementById('reserve-from')?.focus();
  }, [pick]);

  const act = (work: () => Promise<string>) => {
    setBusy(true);
    setOutcome(undefined);
    work().then(
      (text) => {
        setOutcome({ ok: true, text });
        setBusy(false);
        onChanged();
      },
      (error: unknown) => {
        setOutcome({ ok: false, text: error instanceof Error ? error.message : String(error) });
        setBusy(false);
      },
    );
  };
  const graceMinutes = Math.round(e.graceMs / 60_000);

  return (
    <section aria-labelledby="changes-title" class="changes">
      <h2 id="changes-title">Change</h2>
      {outcome === undefined ? null : (
        <p class={outcome.ok ? 'done' : 'error'} role={outcome.ok ? 'status' : 'alert'}>
          {outcome.text}
        </p>
      )}
      <form
        class="reserve"
        aria-labelledby="reserve-title"
        onSubmit={(event) => {
          event.preventDefault();
          act(async () => {
            await reserve(e.name, from, to, note);
            setNote('');
            return `Reserved ${from.replace('T', ' ')} to ${to.replace('T', ' ')} (${zone}).`;
          });
        }}
      >
        <h3 id="reserve-title">Reserve a window</h3>
        <p class="muted">Type the times, or drag across a day of the week above.</p>
        <TimeInput id="reserve-from" label="From" value={from} zone={zone} onInput={setFrom} />
        <TimeInput id="reserve-to" label="To" value={to} zone={zone} onInput={setTo} />
        <label>
          Note <span class="muted">(optional)</span>
          <input
            type="text"
            maxLength={500}
            value={note}
            onInput={(ev) => {
              setNote(ev.currentTarget.value);
            }}
          />
        </label>
        <button type="submit" disabled={busy}>
          Reserve
        </button>
      </form>

      <form
        class="until"
        aria-labelledby="until-title"
        onSubmit={(event) => {
          event.preventDefault();
        }}
      >
        <h3 id="until-title">Keep on, or hold</h3>
        <TimeInput id="until" label="Until" value={until} zone={zone} onInput={setUntil} />
        <div class="buttons">
          {(
            [
              ['Keep on until then', 'On', () => extend(e.name, until)],
              ['Hold on', 'Held on', () => hold(e.name, 'on', until)],
              ['Hold off', 'Held off', () => hold(e.name, 'off', until)],
            ] as const
          ).map(([label, done, change]) => (
            <button
              key={label}
              type="button"
              disabled={busy}
              onClick={() => {
                act(async () => {
                  await change();
                  return `${done} until ${until.replace('T', ' ')} (${zone}).`;
                });
              }}
            >
              {label}
            </button>
          ))}
        </div>
      </form>

      <div class="now-buttons">
        <h3>Now</h3>
        <button
          type="button"
          disabled={busy}
          onClick={() => {
            act(async () => {
              const run = await startNow(e.name);
              route(`/runs/${encodeURIComponent(run.id)}`);
              return 'Starting.';
            });
          }}
        >
          Start now
        </button>
        <button
          type="button"
          class="danger"
          disabled={busy}
          onClick={() => confirmStop.current?.showModal()}
        >
          Stop…
        </button>
      </div>

      <dialog ref={confirmStop} aria-labelledby="stop-title" aria-describedby="stop-text">
        <h3 id="stop-title">Stop {e.name}?</h3>
        <p id="stop-text">
          Its channels are warned now, and anyone may keep it running during the grace of{' '}
          {graceMinutes} min. It stops at {dayClockIn(now() + e.graceMs, zone)} ({zone}) unless
          someone does.
        </p>
        <form method="dialog" class="buttons">
          <button
            type="submit"
            class="danger"
            onClick={() => {
              act(async () => {
                const run = await stopAfterGrace(e.name);
                route(`/runs/${encodeURIComponent(run.id)}`);
                return `Stopping at ${dayClockIn(Date.parse(run.actAt), zone)} (${zone}).`;
              });
            }}
          >
            Stop after {graceMinutes} min
          </button>
          <button type="submit" autoFocus>
            Cancel
          </button>
        </form>
      </dialog>
    </section>
  );
}

/** A datetime-local input read in the environment's zone, with the same time in the viewer's. */
function TimeInput({
  id,
  label,
  value,
  zone,
  onInput,
}: {
  id: string;
  label: string;
  value: string;
  zone: string;
  onInput: (value: string) => void;
}) {
  const mine = viewerZone();
  const t = instantOf(value, zone);
  return (
    <div class="time-input">
      <label for={id}>
        {label} <span class="muted">({zone})</span>
      </label>
      <input
        id={id}
        type="datetime-local"
        required
        value={value}
        aria-describedby={`${id}-mine`}
        onInput={(ev) => {
          onInput(ev.currentTarget.value);
        }}
      />
      <small id={`${id}-mine`} class="muted">
        {t === undefined
          ? 'give a date and time'
          : mine === zone
            ? 'also your zone'
            : `${dayClockIn(t, mine)} in your zone (${mine})`}
      </small>
    </div>
  );
}
