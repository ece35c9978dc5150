/**
 * Start and stop expressions: 5-field cron, EventBridge `cron()`, and `at()`.
 *
 * Every notation is translated onto croner, which evaluates it on wall-clock
 * times ({@link WallTime}); the schedule then places each firing in its zone with
 * the single DST rule of zone.ts. Croner's own DST handling is therefore never
 * used, so cron expressions and weekly periods follow exactly the same rule.
 */
import { Cron } from 'croner';
import type { Expression, Parsed } from './glossary.js';
import { isRealDate } from './time-text.js';
import { parseVixieCron } from './vixie-cron.js';
import type { WallTime } from './zone.js';

const EXAMPLE_EVENTBRIDGE = 'cron(0 7 ? * MON-FRI *)';

/** Parses the text of a `start:` or `stop:` field. */
export function parseExpression(text: string): Parsed<Expression> {
  const source = text.trim();
  if (/^rate\(/i.test(source)) {
    return fail(
      `${source} repeats at a fixed interval counted from whenever it was created, so it has no fixed time of day to start or stop at; write a cron(...) expression, e.g. ${EXAMPLE_EVENTBRIDGE}, or use periods`,
    );
  }
  if (/^at\(/i.test(source)) return parseAt(source);
  if (/^cron\(/i.test(source)) return parseEventBridgeCron(source);
  return parseUnixCron(source);
}

function fail(error: string): Parsed<never> {
  return { ok: false, error };
}

/** `at(yyyy-mm-ddThh:mm:ss)`, one firing at a local time of the schedule's zone. */
function parseAt(source: string): Parsed<Expression> {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/i.exec(source);
  const local = match?.[1];
  const [hour = 99, minute = 99, second = 99] = (local?.slice(11) ?? '').split(':').map(Number);
  const validTime = hour <= 23 && minute <= 59 && second <= 59;
  if (local === undefined || !isRealDate(local.slice(0, 10)) || !validTime) {
    return fail(
      `${source} is not a valid at() expression; write at(yyyy-mm-ddThh:mm:ss), e.g. at(2026-12-24T18:00:00)`,
    );
  }
  return { ok: true, value: { source, syntax: 'at', pattern: local } };
}

/**
 * EventBridge: `cron(minutes hours day-of-month month day-of-week year)`, day-of-week
 * 1-7 = SUN-SAT, and exactly one of the two day fields must be `?`.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
 */
function parseEventBridgeCron(source: string): Parsed<Expression> {
  const inner = /^cron\((.*)\)$/is.exec(source)?.[1];
  const fields = inner?.trim().split(/\s+/) ?? [];
  if (fields.length !== 6) {
    return fail(
      `${source} has ${fields.length} fields; EventBridge cron() takes 6 (minutes hours day-of-month month day-of-week year), e.g. ${EXAMPLE_EVENTBRIDGE}`,
    );
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return fail(
      `${source}: exactly one of day-of-month and day-of-week must be "?" in EventBridge cron(); e.g. ${EXAMPLE_EVENTBRIDGE} or cron(0 7 1 * ? *)`,
    );
  }
  const dayOfWeekError = checkEventBridgeDayOfWeek(dayOfWeek);
  if (dayOfWeekError !== undefined) return fail(`${source}: ${dayOfWeekError}`);
  const pattern = [
    '0',
    minutes,
    hours,
    dayOfMonth.replace('?', '*'),
    month,
    eventBridgeDayOfWeek(dayOfWeek),
    year,
  ].join(' ');
  const error = croneError(pattern, 'eventbridge-cron');
  if (error !== undefined) return fail(`${source}: ${error}`);
  return { ok: true, value: { source, syntax: 'eventbridge-cron', pattern } };
}

const WEEKDAY = '([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)';
const EVENTBRIDGE_DAY_OF_WEEK = new RegExp(
  `^(\\?|\\*|L|${WEEKDAY}L|${WEEKDAY}#[1-5]|${WEEKDAY}(-${WEEKDAY})?)$`,
  'i',
);

/** Day-of-week as EventBridge takes it: 1-7 or SUN-SAT, lists, ranges, `xL`, `x#n`. */
function checkEventBridgeDayOfWeek(field: string): string | undefined {
  const bad = field.split(',').find((item) => !EVENTBRIDGE_DAY_OF_WEEK.test(item));
  if (bad === undefined) return undefined;
  return `day-of-week "${bad}" is not valid in EventBridge cron(); write 1-7 or SUN-SAT (1 = SUN), ranges such as MON-FRI, 6L (last Friday) or 2#1 (first Monday)`;
}

/** `L` alone is the last day of the week (7 = SAT); `6L` is the last Friday of the month. */
function eventBridgeDayOfWeek(field: string): string {
  if (field === '?') return '*';
  if (field.toUpperCase() === 'L') return '7';
  return field.replace(/^(\w+)L$/i, '$1#L');
}

/** 5-field cron, read as Vixie cron reads it (vixie-cron.ts), evaluated by croner. */
function parseUnixCron(source: string): Parsed<Expression> {
  const fields = source.split(/\s+/);
  if (fields.length !== 5) {
    return fail(
      `"${source}" is not an expression lightsout knows; write 5-field cron (minute hour day-of-month month day-of-week, e.g. "0 7 * * 1-5"), EventBridge ${EXAMPLE_EVENTBRIDGE}, or at(2026-12-24T18:00:00)`,
    );
  }
  const vixie = parseVixieCron(source);
  if (!vixie.ok) return fail(`"${source}": ${vixie.error}`);
  const { pattern } = vixie.value;
  // Vixie's grammar is checked above; croner refusing what it produced is a bug of ours.
  const error = croneError(pattern, 'cron');
  if (error !== undefined) return fail(`"${source}" cannot be evaluated (${error})`);
  return { ok: true, value: { source, syntax: 'cron', pattern } };
}

function croneError(pattern: string, syntax: 'cron' | 'eventbridge-cron'): string | undefined {
  try {
    cronFor(pattern, syntax);
    return undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return message.replace(/^CronPattern: /, '');
  }
}

type CronSyntax = 'cron' | 'eventbridge-cron' | 'period';

/** Croner evaluating on wall times: offset 0, so no zone is involved. */
export function cronFor(pattern: string, syntax: CronSyntax): Cron {
  return new Cron(pattern, {
    paused: true,
    utcOffset: 0,
    mode: syntax === 'cron' ? '5-part' : syntax === 'eventbridge-cron' ? '7-part' : '6-part',
    // EventBridge counts day-of-week 1-7 = SUN-SAT (Quartz style).
    alternativeWeekdays: syntax === 'eventbridge-cron',
    // Periods combine their day filters with AND. A 5-field cron pattern carries
    // Vixie's rule itself: "+" before day-of-week asks for AND, else OR (vixie-cron.ts).
    domAndDow: syntax === 'period',
    // EventBridge writes steps as "0/15" (start/step), which croner calls sloppy.
    sloppyRanges: syntax === 'eventbridge-cron',
  });
}

/** Where an expression fires, as wall times; see {@link firingsOf}. */
export interface Firings {
  /** Firings in `[from, to)`, in order. */
  between(from: WallTime, to: WallTime): WallTime[];
  /** The latest firing strictly before `t`, if any. */
  lastBefore(t: WallTime): WallTime | undefined;
}

export function firingsOf(expression: Expression): Firings {
  if (expression.syntax === 'at') return atFirings(Date.parse(`${expression.pattern}Z`));
  return cronFirings(expression.pattern, expression.syntax);
}

/**
 * Whether an expression fires more than `perDay` times on some day. Cron fields
 * for minutes and hours are the same on every day the day fields let through, so
 * the first day it fires on is as busy as any: counted from that day's first firing,
 * at most `perDay + 1` firings are computed whatever the expression.
 */
export function firesMoreThan(expression: Expression, perDay: number): boolean {
  if (expression.syntax === 'at') return false;
  const cron = cronFor(expression.pattern, expression.syntax);
  const first = cron.nextRun(new Date(Date.UTC(2026, 0, 1) - 1));
  if (first === null) return false;
  const runs = cron.nextRuns(perDay, first);
  return runs.length === perDay && runs.at(-1)!.getTime() - first.getTime() < 86_400_000;
}

/**
 * Wall-time firings of a pattern, a calendar year at a time. Croner takes about
 * 12 µs a firing; wall times do not depend on the zone, so every schedule that
 * uses the same pattern, in any zone, shares one computation. Bounded, oldest out.
 */
const yearCache = new Map<string, readonly WallTime[]>();
const YEAR_CACHE_LIMIT = 4_096;
const crons = new Map<string, Cron>();

function firingsInYear(pattern: string, syntax: CronSyntax, year: number): readonly WallTime[] {
  const key = `${syntax}|${pattern}|${year}`;
  const cached = yearCache.get(key);
  if (cached !== undefined) return cached;
  const cronKey = `${syntax}|${pattern}`;
  const cron = crons.get(cronKey) ?? cronFor(pattern, syntax);
  if (crons.size < YEAR_CACHE_LIMIT) crons.set(cronKey, cron);
  const end = Date.UTC(year + 1, 0, 1);
  const firings: WallTime[] = [];
  // Croner's nextRun is exclusive of its argument; step back one ms to include New Year.
  let next = cron.nextRun(new Date(Date.UTC(year, 0, 1) - 1));
  while (next !== null && next.getTime() < end) {
    firings.push(next.getTime());
    next = cron.nextRun(next);
  }
  if (yearCache.size >= YEAR_CACHE_LIMIT) yearCache.delete(yearCache.keys().next().value!);
  yearCache.set(key, firings);
  return firings;
}

export function cronFirings(pattern: string, syntax: CronSyntax): Firings {
  return {
    between(from, to) {
      const result: WallTime[] = [];
      const lastYear = new Date(to - 1).getUTCFullYear();
      for (let year = new Date(from).getUTCFullYear(); year <= lastYear; year++) {
        for (const t of firingsInYear(pattern, syntax, year))
          if (t >= from && t < to) result.push(t);
      }
      return result;
    },
    lastBefore(t) {
      const cron = crons.get(`${syntax}|${pattern}`) ?? cronFor(pattern, syntax);
      return cron.previousRuns(1, new Date(t))[0]?.getTime();
    },
  };
}

function atFirings(at: WallTime): Firings {
  return {
    between: (from, to) => (from <= at && at < to ? [at] : []),
    lastBefore: (t) => (at < t ? at : undefined),
  };
}
