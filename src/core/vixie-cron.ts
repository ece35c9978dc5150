/**
 * 5-field cron read the way Vixie cron reads it (entry.c and cron.c of Vixie/ISC
 * cron, the crontab of most Linux systems), translated to a croner pattern that
 * croner then evaluates.
 *
 * Hand-written because no maintained JavaScript library reads the day fields as
 * Vixie does: croner (and cron-parser) call a day field unrestricted only when
 * it is exactly `*`, and croner refuses a step wider than its field. Vixie:
 *
 * - A day field whose text starts with `*` (`*`, `*\/2`, `*\/100,1-7`) sets
 *   DOM_STAR or DOW_STAR, and then a day matches when day-of-month AND
 *   day-of-week match; when neither starts with `*`, a day matches when EITHER
 *   does. The values of `*\/N` still count: `0 8 1-7 * *\/7` is 08:00 on days
 *   1-7 that are Sundays, i.e. the first Sunday of the month.
 * - `*\/N` and `A-B/N` take every Nth value from the start of the range; a step
 *   wider than the range keeps the start only (`*\/100` in minutes is minute 0).
 *   A step of 0 is refused; `A/N` (a step without a range) is refused.
 * - Day-of-week 0-7, 0 and 7 both Sunday; three-letter names (`MON`, `JAN`) in
 *   the month and day-of-week fields, also in ranges.
 *
 * Beyond Vixie, the day-of-month items `L`, `LW` and `15W` and the day-of-week
 * items `5#2`, `5L` and `5#L` (croner's) are passed through, as lightsout always
 * accepted them; `?` in a day field reads as `*`.
 */
import type { Parsed } from './glossary.js';

/** What a 5-field cron expression selects, and the croner pattern for it. */
export interface VixieCron {
  /** Values each field selects, sorted; day-of-week 0-6 with 0 = Sunday. */
  readonly minute: readonly number[];
  readonly hour: readonly number[];
  readonly dayOfMonth: readonly number[];
  readonly month: readonly number[];
  readonly dayOfWeek: readonly number[];
  /** `and` when either day field starts with `*`, else `or` (Vixie's DOM_STAR/DOW_STAR). */
  readonly dayRule: 'and' | 'or';
  /** The croner pattern (5 parts); `+` before day-of-week asks croner for AND. */
  readonly pattern: string;
}

interface Field {
  readonly name: string;
  readonly low: number;
  readonly high: number;
  /** Names of the values from `low` on, as Vixie's MonthNames and DowNames. */
  readonly names?: readonly string[];
  readonly write: string;
}

const FIELDS: readonly Field[] = [
  { name: 'minute', low: 0, high: 59, write: '0-59' },
  { name: 'hour', low: 0, high: 23, write: '0-23' },
  { name: 'day-of-month', low: 1, high: 31, write: '1-31' },
  {
    name: 'month',
    low: 1,
    high: 12,
    names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'],
    write: '1-12 or JAN-DEC',
  },
  {
    name: 'day-of-week',
    low: 0,
    high: 7,
    names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'],
    write: '0-7 (0 and 7 are Sunday) or SUN-SAT',
  },
];

const VALUE = '(\\d+|[a-z]+)';
const ITEM = new RegExp(`^(?:(\\*)|${VALUE}(?:-${VALUE})?)(?:/(\\d+))?$`, 'i');
const DAY_OF_MONTH_EXTRA = /^(L|LW|(\d+)W)$/i;
const DAY_OF_WEEK_EXTRA = new RegExp(`^${VALUE}(#[1-5]|#L|L)$`, 'i');

interface ParsedField {
  readonly values: readonly number[];
  /** Items croner evaluates itself (`L`, `15W`, `5#2`), normalised. */
  readonly extras: readonly string[];
  /** Vixie's DOM_STAR / DOW_STAR: the field's text starts with `*`. */
  readonly star: boolean;
  /** The field is `*` alone (or `?`): croner reads it as fast as it can. */
  readonly every: boolean;
}

export function parseVixieCron(source: string): Parsed<VixieCron> {
  const texts = source.trim().split(/\s+/);
  if (texts.length !== 5)
    return { ok: false, error: `has ${texts.length} fields; 5-field cron takes 5` };
  const parsed: ParsedField[] = [];
  for (const [i, field] of FIELDS.entries()) {
    const result = parseField(texts[i]!, field);
    if (!result.ok) return result;
    parsed.push(result.value);
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = parsed as [
    ParsedField,
    ParsedField,
    ParsedField,
    ParsedField,
    ParsedField,
  ];
  const dayRule = dayOfMonth.star || dayOfWeek.star ? 'and' : 'or';
  // A field that is "*" alone stays "*": croner skips its check, which is the same
  // as Vixie's AND with every value. The others are written out as values.
  const part = (f: ParsedField) => (f.every ? '*' : [...f.values, ...f.extras].join(','));
  const pattern = [
    part(minute),
    part(hour),
    part(dayOfMonth),
    part(month),
    `${dayRule === 'and' && !dayOfWeek.every ? '+' : ''}${part(dayOfWeek)}`,
  ].join(' ');
  return {
    ok: true,
    value: {
      minute: minute.values,
      hour: hour.values,
      dayOfMonth: dayOfMonth.values,
      month: month.values,
      dayOfWeek: dayOfWeek.values,
      dayRule,
      pattern,
    },
  };
}

function parseField(text: string, field: Field): Parsed<ParsedField> {
  const isDay = field.name.startsWith('day-');
  const source = isDay && text === '?' ? '*' : text;
  const values = new Set<number>();
  const extras: string[] = [];
  for (const item of source.split(',')) {
    const bad = (why: string): Parsed<never> => ({
      ok: false,
      error: `${field.name} "${text}": ${why}`,
    });
    if (item === '') return bad(`an item of the list is empty; write e.g. "1,15"`);
    const extra = extraItem(item, field);
    if (extra !== undefined) {
      if (typeof extra !== 'string') return bad(extra.error);
      extras.push(extra);
      continue;
    }
    const match = ITEM.exec(item);
    if (match === null)
      return bad(
        `"${item}" is not a value, range or step; write ${field.write}, a range such as ${field.low}-${field.low + 4}, or a step such as */2`,
      );
    const [, star, from, to, step] = match;
    const first = star !== undefined ? field.low : valueOf(from!, field);
    const last = star !== undefined ? field.high : to !== undefined ? valueOf(to, field) : first;
    for (const [value, written] of [
      [first, star ?? from!],
      [last, star ?? to ?? from!],
    ] as const) {
      if (value === undefined) return bad(`"${written}" is not valid here; write ${field.write}`);
      if (value < field.low || value > field.high)
        return bad(`${value} is out of range; write ${field.write}`);
    }
    if (last! < first!)
      return bad(`the range "${item}" runs backwards; write the smaller value first`);
    // Vixie: a single value followed by "/" is a syntax error.
    if (step !== undefined && star === undefined && to === undefined)
      return bad(`a step needs a range; write "${from}-${field.high}/${step}" or "*/${step}"`);
    const by = step === undefined ? 1 : Number(step);
    if (by === 0) return bad(`a step of 0 never moves; write a step of 1 or more, e.g. */2`);
    // Vixie's loop `for (i = num1; i <= num2; i += num3)`: a wide step keeps the start only.
    for (let v = first!; v <= last!; v += by) values.add(field.name === 'day-of-week' ? v % 7 : v);
  }
  if (extras.includes('LW') && source.includes(','))
    return {
      ok: false,
      error: `${field.name} "${text}": LW (the last weekday of the month) stands alone; write LW`,
    };
  return {
    ok: true,
    value: {
      values: [...values].sort((a, b) => a - b),
      extras,
      star: source.startsWith('*'),
      every: source === '*',
    },
  };
}

/** A number or (for month and day-of-week) a three-letter name; undefined if neither. */
function valueOf(text: string, field: Field): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  return index === -1 ? undefined : index + field.low;
}

/** Croner's day items that Vixie lacks: undefined when `item` is not one. */
function extraItem(item: string, field: Field): string | { error: string } | undefined {
  if (field.name === 'day-of-month') {
    const match = DAY_OF_MONTH_EXTRA.exec(item);
    if (match === null) return undefined;
    const day = match[2] === undefined ? undefined : Number(match[2]);
    if (day !== undefined && (day < 1 || day > 31))
      return { error: `${day}W: the day is out of range; write 1W-31W` };
    return item.toUpperCase();
  }
  if (field.name === 'day-of-week') {
    const match = DAY_OF_WEEK_EXTRA.exec(item);
    if (match === null) return undefined;
    const day = valueOf(match[1]!, field);
    if (day === undefined || day > 7)
      return { error: `"${match[1]}" is not a day of the week; write ${field.write}` };
    return `${day % 7}${match[2]!.toUpperCase()}`;
  }
  return undefined;
}
