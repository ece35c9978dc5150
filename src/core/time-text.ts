/**
 * Instants and dates written by people: `2026-12-26T09:00` (local time of a zone),
 * `2026-12-26T09:00+01:00` or `...Z` (an offset wins over the zone), `2026-12-26`
 * (local midnight). And instants and durations written for people (`whenText`,
 * `durationText`).
 */
import { DateTime } from 'luxon';
import type { Instant } from './glossary.js';
import type { Parsed } from './glossary.js';
import { toInstant } from './zone.js';

const LOCAL = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?$/;
const OFFSET = /(Z|[+-]\d{2}:?\d{2})$/i;

export const INSTANT_HINT =
  'write an ISO 8601 date and time such as "2026-12-26T09:00" (local time of the zone) or "2026-12-26T08:00Z" / "2026-12-26T09:00+01:00"';

/** Parses `text`; without an offset it is a local time in `zone`, placed by the DST rule. */
export function parseInstant(text: string, zone: string): Parsed<Instant> {
  const trimmed = text.trim();
  const offset = OFFSET.exec(trimmed)?.[1];
  const local = offset === undefined ? trimmed : trimmed.slice(0, -offset.length);
  const match = LOCAL.exec(local);
  if (match === null)
    return { ok: false, error: `"${text}" is not a date and time; ${INSTANT_HINT}` };
  const [, date, hh = '00', mm = '00', ss = '00', ms = '0'] = match;
  const wall = Date.parse(`${date!}T${hh}:${mm}:${ss}.${ms.padEnd(3, '0')}Z`);
  if (Number.isNaN(wall) || !isRealDate(date!) || Number(hh) > 23) {
    return { ok: false, error: `"${text}" is not a real date and time; ${INSTANT_HINT}` };
  }
  if (offset === undefined) return { ok: true, value: toInstant(zone, wall) };
  return { ok: true, value: wall - offsetMilliseconds(offset) };
}

function offsetMilliseconds(offset: string): number {
  if (offset.toUpperCase() === 'Z') return 0;
  const digits = offset.replace(':', '');
  const sign = digits.startsWith('-') ? -1 : 1;
  return sign * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5))) * 60_000;
}

/** Whether `YYYY-MM-DD` names a day that exists (no 2026-02-30). */
export function isRealDate(date: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return false;
  const parsed = new Date(`${date}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === date;
}

/** Every date from `from` to `to`, both included. */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  for (
    let t = Date.parse(`${from}T00:00:00Z`);
    t <= Date.parse(`${to}T00:00:00Z`);
    t += 86_400_000
  ) {
    dates.push(new Date(t).toISOString().slice(0, 10));
  }
  return dates;
}

/** "14:00 Europe/Paris (13:00 UTC)", with the date when it is not today in that zone. */
export function whenText(at: Instant, zone: string, now: Instant): string {
  const local = DateTime.fromMillis(at, { zone });
  const utc = DateTime.fromMillis(at, { zone: 'UTC' });
  const sameDay = local.hasSame(DateTime.fromMillis(now, { zone }), 'day');
  const day = sameDay ? '' : `${local.toFormat('ccc d LLL')} `;
  return zone === 'UTC'
    ? `${day}${utc.toFormat('HH:mm')} UTC`
    : `${day}${local.toFormat('HH:mm')} ${zone} (${utc.toFormat('HH:mm')} UTC)`;
}

/** "850 ms", "45 s", "2 min 5 s", "1 h 3 min": the two largest units, whole. */
export function durationText(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return m % 60 === 0 ? `${h} h` : `${h} h ${m % 60} min`;
}
