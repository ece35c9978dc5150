/**
 * The reservations and holds in force or to come, with who made them; an
 * operator deletes those made through the API or the CLI (the config's own
 * stay, and the API says so).
 */
import { useState } from 'preact/hooks';
import type { EnvironmentDetail } from './environment-api';
import { deleteHold, deleteReservation } from './environment-api';
import { dayClockIn } from './zone-time';

interface Props {
  readonly environment: Pick<EnvironmentDetail, 'timezone' | 'reservations' | 'holds'>;
  readonly canChange: boolean;
  readonly onChanged: () => void;
}

export function Plans({ environment: e, canChange, onChanged }: Props) {
  const [error, setError] = useState<string | undefined>();
  const zone = e.timezone;
  const when = (iso: string) => dayClockIn(Date.parse(iso), zone);
  const remove = (work: () => Promise<void>) => {
    setError(undefined);
    work().then(onChanged, (failure: unknown) => {
      setError(failure instanceof Error ? failure.message : String(failure));
    });
  };
  return (
    <section aria-labelledby="plans-title">
      <h2 id="plans-title">
        Reservations and holds <span class="muted">({zone})</span>
      </h2>
      {error === undefined ? null : (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {e.reservations.length === 0 && e.holds.length === 0 ? (
        <p class="empty">None in force or to come.</p>
      ) : (
        <ul class="plans">
          {e.reservations.map((r) => (
            <li key={r.id} data-reservation={r.id}>
              Reserved {when(r.from)} to {when(r.to)}
              {r.resource === undefined ? '' : ` (${r.resource} alone)`} by {r.actor}
              {r.note === undefined ? '' : `: “${r.note}”`}
              {canChange && r.source !== 'config' ? (
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    remove(() => deleteReservation(r.id));
                  }}
                >
                  Delete
                </button>
              ) : null}
            </li>
          ))}
          {e.holds.map((h) => (
            <li key={h.id} data-hold={h.id}>
              Held {h.state} {h.from === undefined ? '' : `from ${when(h.from)} `}until{' '}
              {when(h.until)} by {h.actor}
              {canChange ? (
                <button
                  type="button"
                  class="link"
                  onClick={() => {
                    remove(() => deleteHold(h.id));
                  }}
                >
                  Delete
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
