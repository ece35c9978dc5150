/**
 * Wall-clock times in a named zone, for the forms: the value of a
 * datetime-local input read in the environment's zone (@date-fns/tz does the
 * zone arithmetic, gaps and overlaps included), and instants shown in any zone.
 */
import { TZDate } from '@date-fns/tz';

/** The instant "2026-12-01T14:00" names in `zone`; undefined when the text is no such time. */
export function instantOf(local: string, zone: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(local);
  if (m === null) return undefined;
  const [year, month, day, hour, minute] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const time = new TZDate(year, month - 1, day, hour, minute, zone).getTime();
  return Number.isNaN(time) ? undefined : time;
}

/** An instant as a datetime-local input's value in `zone`: "2026-12-01T14:00". */
export function localValue(t: number, zone: string): string {
  const d = new TZDate(t, zone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** "14:30" in `zone`. */
export function clockIn(t: number, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
  }).format(t);
}

/** "Tue 1 Dec 14:30" in `zone` (the caller names the zone). */
export function dayClockIn(t: number, zone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  }).format(t);
}

/** This browser's zone, e.g. Europe/London. */
export function viewerZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
