/**
 * The environment's days, one row each across 24 hours of its zone (a day of
 * 23 or 25 hours fills its row all the same): the plan on top (on-time, with
 * the reservations and holds that shape it), what really happened below (on,
 * partly on, off), the runs as marks linking to their page, and a "now" line.
 * Dragging across a row picks a window for the reservation form (the form's
 * inputs do the same by keyboard); each row also says its plan in words.
 */
import { useRef, useState } from 'preact/hooks';
import type { Span, Timeline, TimelineRun } from './environment-api';
import { clockIn } from './zone-time';

/** Picks snap to a quarter of an hour. */
const SNAP_MS = 15 * 60_000;

interface Day {
  readonly date: string;
  readonly start: number;
  readonly end: number;
}

interface Props {
  readonly timeline: Timeline;
  /** A window dragged out on a row. */
  readonly onPick?: (from: number, to: number) => void;
}

export function Week({ timeline, onPick }: Props) {
  const zone = timeline.timezone;
  const now = Date.parse(timeline.now);
  const days: Day[] = timeline.days.map((d) => ({
    date: d.date,
    start: Date.parse(d.from),
    end: Date.parse(d.to),
  }));
  return (
    <div class="week">
      <div class="week-hours" aria-hidden="true">
        <span />
        <div class="week-scale">
          {[0, 6, 12, 18].map((h) => (
            <span key={h} style={{ left: `${(h / 24) * 100}%` }}>
              {String(h).padStart(2, '0')}:00
            </span>
          ))}
        </div>
      </div>
      {days.map((day) => (
        <DayRow
          key={day.date}
          day={day}
          timeline={timeline}
          now={now}
          zone={zone}
          onPick={onPick}
        />
      ))}
      <ul class="legend" aria-label="Legend">
        <li>
          <i class="swatch planned-on" /> planned on
        </li>
        <li>
          <i class="swatch reserved" /> reservation
        </li>
        <li>
          <i class="swatch held-off" /> held off
        </li>
        <li>
          <i class="swatch actual-on" /> was on
        </li>
        <li>
          <i class="swatch actual-partial" /> partly on
        </li>
        <li>
          <i class="swatch actual-off" /> was off
        </li>
        <li>
          <i class="swatch run-mark" /> run
        </li>
      </ul>
    </div>
  );
}

function DayRow({
  day,
  timeline,
  now,
  zone,
  onPick,
}: {
  day: Day;
  timeline: Timeline;
  now: number;
  zone: string;
  onPick: Props['onPick'];
}) {
  const track = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<{ from: number; to: number } | undefined>();
  const length = day.end - day.start;
  const x = (t: number) => ((Math.min(Math.max(t, day.start), day.end) - day.start) / length) * 100;
  const place = (from: number, to: number) => ({
    left: `${x(from)}%`,
    width: `${x(to) - x(from)}%`,
  });
  const inDay = <T extends Span>(spans: readonly T[]) =>
    spans.filter((s) => Date.parse(s.to) > day.start && Date.parse(s.from) < day.end);
  const timeAt = (clientX: number) => {
    const box = track.current!.getBoundingClientRect();
    const t = day.start + ((clientX - box.left) / box.width) * length;
    return Math.min(day.end, Math.max(day.start, Math.round(t / SNAP_MS) * SNAP_MS));
  };

  const on = inDay(timeline.planned.on);
  const reserved = inDay(timeline.planned.reservations);
  const heldOff = inDay(
    timeline.planned.holds
      .filter((h) => h.state === 'off')
      .map((h) => ({ from: h.from ?? new Date(day.start).toISOString(), to: h.until })),
  );
  const actual = inDay(timeline.actual);
  const runs = timeline.runs.filter((r) => {
    const t = Date.parse(r.createdAt);
    return t >= day.start && t < day.end;
  });
  const label = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
  }).format(day.start + length / 2);
  const span = (s: Span) =>
    `${clockIn(Math.max(Date.parse(s.from), day.start), zone)}–${clockIn(Math.min(Date.parse(s.to), day.end), zone)}`;
  const words = on.length === 0 ? 'planned off all day' : `planned on ${on.map(span).join(', ')}`;

  return (
    <div
      class={`week-day${now >= day.start && now < day.end ? ' today' : ''}`}
      data-date={day.date}
    >
      <span class="week-label">{label}</span>
      <div
        class="week-track"
        ref={track}
        role="img"
        aria-label={`${label}: ${words}${reserved.length > 0 ? `; reserved ${reserved.map(span).join(', ')}` : ''}${heldOff.length > 0 ? `; held off ${heldOff.map(span).join(', ')}` : ''}`}
        onPointerDown={(e) => {
          if (onPick === undefined || e.button !== 0) return;
          e.currentTarget.setPointerCapture(e.pointerId);
          const t = timeAt(e.clientX);
          setDrag({ from: t, to: t });
        }}
        onPointerMove={(e) => {
          if (drag !== undefined) setDrag({ ...drag, to: timeAt(e.clientX) });
        }}
        onPointerUp={() => {
          if (drag === undefined) return;
          const from = Math.min(drag.from, drag.to);
          const to = Math.max(drag.from, drag.to);
          setDrag(undefined);
          if (to > from) onPick?.(from, to);
        }}
      >
        <div class="lane lane-plan">
          {on.map((s) => (
            <i
              key={s.from}
              class="band planned-on"
              style={place(Date.parse(s.from), Date.parse(s.to))}
            />
          ))}
          {heldOff.map((s) => (
            <i
              key={s.from}
              class="band held-off"
              style={place(Date.parse(s.from), Date.parse(s.to))}
            />
          ))}
          {reserved.map((s) => (
            <i
              key={s.from}
              class="band reserved"
              title={`reserved ${span(s)} by ${s.actor}`}
              style={place(Date.parse(s.from), Date.parse(s.to))}
            />
          ))}
        </div>
        <div class="lane lane-actual">
          {actual.map((s) => (
            <i
              key={s.from}
              class={`band actual-${s.state}`}
              style={place(Date.parse(s.from), Date.parse(s.to))}
            />
          ))}
        </div>
        {drag === undefined || drag.to === drag.from ? null : (
          <i
            class="pick"
            style={place(Math.min(drag.from, drag.to), Math.max(drag.from, drag.to))}
          />
        )}
        {now >= day.start && now < day.end ? (
          <i class="now" style={{ left: `${x(now)}%` }} title={`now, ${clockIn(now, zone)}`} />
        ) : null}
      </div>
      <span class="week-runs">
        {runs.map((r) => (
          <RunMark key={r.id} run={r} zone={zone} x={x(Date.parse(r.createdAt))} />
        ))}
      </span>
    </div>
  );
}

function RunMark({ run, zone, x }: { run: TimelineRun; zone: string; x: number }) {
  const text = `${run.direction} ${run.status} at ${clockIn(Date.parse(run.createdAt), zone)} (${run.trigger})`;
  return (
    <a
      class={`run-mark run-${run.status}`}
      href={`/runs/${encodeURIComponent(run.id)}`}
      style={{ left: `${x}%` }}
      title={text}
      aria-label={`Run: ${text}`}
    />
  );
}
