/**
 * The human fields of a weekly period (`days: mon-fri`, `months: jan-mar`,
 * `monthdays: 1-15,L`, `start: "07:00"`) and their translation to croner fields.
 * The grammar is ours (names, lists, wrapping ranges such as `fri-mon`); the
 * calendar matching is croner's.
 */
import type { MinuteOfDay } from './glossary.js';
import type { Parsed } from './glossary.js';

const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
const WEEKDAY_NAMES = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
];
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

function fail(error: string): Parsed<never> {
  return { ok: false, error };
}

function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

/** Index of a weekday or month written as its three-letter abbreviation or in full. */
function nameIndex(abbreviations: readonly string[], text: string): number | undefined {
  const full = abbreviations === MONTHS ? MONTH_NAMES : WEEKDAY_NAMES;
  const byAbbreviation = abbreviations.indexOf(text.toUpperCase());
  const index = byAbbreviation >= 0 ? byAbbreviation : full.indexOf(text.toLowerCase());
  return index >= 0 ? index : undefined;
}

/** Members of a range that may wrap around the end (`fri-mon`, `nov-feb`). */
function wrappingRange(from: number, to: number, size: number): number[] {
  const members: number[] = [];
  for (let i = from; ; i = (i + 1) % size) {
    members.push(i);
    if (i === to) return members;
  }
}

/**
 * `mon-fri`, `mon,wed,fri`, `fri-mon`, `mon#1` (first Monday), `friL` (last Friday),
 * `*` or `daily`.
 */
export function parseDays(text: string): Parsed<string> {
  const hint =
    'write days as mon..sun, ranges and lists such as "mon-fri" or "mon,wed,fri", "mon#1" for the first Monday, "friL" for the last Friday';
  const spec = text.trim();
  if (spec === '*' || spec.toLowerCase() === 'daily') return ok('*');
  const parts: string[] = [];
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    const nth = /^([a-z]+)#([1-5])$/i.exec(item);
    const last = /^([a-z]+?)L$/i.exec(item);
    const range = /^([a-z]+)\s*-\s*([a-z]+)$/i.exec(item);
    if (nth !== null) {
      const day = nameIndex(WEEKDAYS, nth[1]!);
      if (day === undefined) return fail(`"${item}" is not a day; ${hint}`);
      parts.push(`${WEEKDAYS[day]!}#${nth[2]!}`);
    } else if (range !== null) {
      const from = nameIndex(WEEKDAYS, range[1]!);
      const to = nameIndex(WEEKDAYS, range[2]!);
      if (from === undefined || to === undefined)
        return fail(`"${item}" is not a range of days; ${hint}`);
      parts.push(...wrappingRange(from, to, 7).map((d) => WEEKDAYS[d]!));
    } else if (nameIndex(WEEKDAYS, item) !== undefined) {
      parts.push(WEEKDAYS[nameIndex(WEEKDAYS, item)!]!);
    } else if (last !== null && nameIndex(WEEKDAYS, last[1]!) !== undefined) {
      parts.push(`${WEEKDAYS[nameIndex(WEEKDAYS, last[1]!)!]!}#L`);
    } else {
      return fail(`"${item}" is not a day; ${hint}`);
    }
  }
  return ok(compactDays([...new Set(parts)]));
}

/** Runs of three or more consecutive days as ranges (`MON-FRI`), so descriptions read naturally. */
function compactDays(parts: readonly string[]): string {
  const plain = new Set(parts.filter((p) => !p.includes('#')));
  const ranges: string[] = [];
  for (let day = 0; day < 7; day++) {
    if (!plain.has(WEEKDAYS[day]!)) continue;
    let end = day;
    while (end + 1 < 7 && plain.has(WEEKDAYS[end + 1]!)) end++;
    if (end - day >= 2) ranges.push(`${WEEKDAYS[day]!}-${WEEKDAYS[end]!}`);
    else for (let d = day; d <= end; d++) ranges.push(WEEKDAYS[d]!);
    day = end;
  }
  return [...ranges, ...parts.filter((p) => p.includes('#'))].join(',');
}

/** `jan-mar`, `jun,jul,aug`, `nov-feb`, or month numbers 1-12. */
export function parseMonths(text: string): Parsed<string> {
  const hint =
    'write months as jan..dec (or 1..12), ranges and lists such as "jan-mar" or "jun,jul,aug"';
  const month = (t: string): number | undefined => {
    if (/^\d{1,2}$/.test(t)) {
      const n = Number(t);
      return n >= 1 && n <= 12 ? n - 1 : undefined;
    }
    return nameIndex(MONTHS, t);
  };
  if (text.trim() === '*') return ok('*');
  const members: number[] = [];
  for (const raw of text.trim().split(',')) {
    const item = raw.trim();
    const range = /^(\w+)\s*-\s*(\w+)$/.exec(item);
    if (range !== null) {
      const from = month(range[1]!);
      const to = month(range[2]!);
      if (from === undefined || to === undefined)
        return fail(`"${item}" is not a range of months; ${hint}`);
      members.push(...wrappingRange(from, to, 12));
    } else {
      const m = month(item);
      if (m === undefined) return fail(`"${item}" is not a month; ${hint}`);
      members.push(m);
    }
  }
  return ok([...new Set(members)].map((m) => MONTHS[m]!).join(','));
}

/** `1-15`, `1,15`, `L` (the last day of the month), `25-L`. */
export function parseMonthdays(text: string): Parsed<string> {
  const hint =
    'write days of the month as 1..31 or L (the last day), ranges and lists such as "1-7" or "1,15,L"';
  const parts: string[] = [];
  const day = (t: string): number | undefined => {
    const n = /^\d{1,2}$/.test(t) ? Number(t) : NaN;
    return n >= 1 && n <= 31 ? n : undefined;
  };
  if (text.trim() === '*') return ok('*');
  for (const raw of text.trim().split(',')) {
    const item = raw.trim();
    // "25-L" runs to the end of every month: days a month lacks never match.
    const range = /^(\d+)\s*-\s*(\d+|L)$/i.exec(item.replace(/-\s*L$/i, '-31'));
    if (item.toUpperCase() === 'L') {
      parts.push('L');
    } else if (range !== null) {
      const from = day(range[1]!);
      const to = day(range[2]!);
      if (from === undefined || to === undefined || from > to) {
        return fail(`"${item}" is not a range of days of the month; ${hint}`);
      }
      parts.push(`${from}-${to}`);
    } else if (day(item) !== undefined) {
      parts.push(String(day(item)));
    } else {
      return fail(`"${item}" is not a day of the month; ${hint}`);
    }
  }
  return ok(parts.join(','));
}

/** `HH:MM` (24-hour clock; `24:00` only where `allowEndOfDay`) as minutes after midnight. */
export function parseClock(text: string, allowEndOfDay: boolean): Parsed<MinuteOfDay> {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  const hours = Number(match?.[1]);
  const minutes = Number(match?.[2]);
  const endOfDay = hours === 24 && minutes === 0 && allowEndOfDay;
  if (match === null || minutes > 59 || (hours > 23 && !endOfDay)) {
    const also = allowEndOfDay ? ', or "24:00" for the end of the day' : '';
    return fail(
      `"${text}" is not a time of day; write "HH:MM" on a 24-hour clock, e.g. "07:00" or "19:30"${also}`,
    );
  }
  return ok(hours * 60 + minutes);
}

export function formatClock(minutes: MinuteOfDay): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
