/**
 * Schedules in plain English, for `lightsout plan`, the API and the dashboard.
 * Day and time phrases come from cronstrue, so cron users read the words they know.
 */
import cronstrue from 'cronstrue';
import type { Exceptions, Expression, Period, Schedule } from './glossary.js';
import { formatClock } from './period-fields.js';

const WORDS = { use24HourTimeFormat: true, verbose: false } as const;

/** E.g. "on 07:00–19:00, Monday through Friday; off all day on 2026-12-25 (Europe/Paris)". */
export function describeSchedule(schedule: Schedule): string {
  const rule = schedule.rule;
  const body =
    rule.kind === 'periods'
      ? rule.periods.map(describePeriod).join('; and ')
      : `starts ${describeExpression(rule.start)}; stops ${describeExpression(rule.stop)}`;
  const except = describeExceptions(schedule.except);
  return `${body}${except === '' ? '' : `; ${except}`} (${schedule.timezone})`;
}

export function describePeriod(period: Period): string {
  const crosses = period.stop <= period.start;
  const times = `${formatClock(period.start)}–${formatClock(period.stop)}${crosses ? ' (next day)' : ''}`;
  // cronstrue spells "every minute, <days>"; we keep the day part.
  let days: string;
  try {
    days = cronstrue
      .toString(`* * ${period.monthdays} ${period.months} ${cronstrueDays(period.days)}`, WORDS)
      .replace(/^Every minute,?\s*/, '');
  } catch {
    days = `days ${period.days}, months ${period.months}, days of the month ${period.monthdays}`;
  }
  return `on ${times}${days === '' ? ', every day' : `, ${days}`}`;
}

export function describeExpression(expression: Expression): string {
  if (expression.syntax === 'at')
    return `once at ${expression.pattern.replace('T', ' ').slice(0, 16)}`;
  try {
    const text =
      expression.syntax === 'cron'
        ? // The pattern is croner's expansion (explicit lists); the source reads better.
          cronstrue.toString(expression.source, WORDS)
        : cronstrue.toString(eventBridgeForCronstrue(expression.pattern), {
            ...WORDS,
            dayOfWeekStartIndexZero: false,
          });
    return lowerFirst(text);
  } catch {
    // cronstrue reads less syntax than croner evaluates (e.g. "5#L"); show the expression itself.
    return `on ${expression.source}`;
  }
}

function describeExceptions(except: Exceptions): string {
  const parts: string[] = [];
  if (except.dates.length > 0) parts.push(compactDates(except.dates).join(', '));
  if (except.holidays.length > 0) parts.push(`public holidays in ${except.holidays.join(', ')}`);
  return parts.length === 0 ? '' : `off all day on ${parts.join(' and ')}`;
}

/** Consecutive dates shown as one range: 2026-12-31 to 2027-01-01. */
function compactDates(dates: readonly string[]): string[] {
  const runs: string[][] = [];
  for (const date of dates) {
    const run = runs[runs.length - 1];
    const previous = run?.[run.length - 1];
    if (
      run !== undefined &&
      previous !== undefined &&
      Date.parse(date) - Date.parse(previous) === 86_400_000
    )
      run.push(date);
    else runs.push([date]);
  }
  return runs.map((run) => (run.length === 1 ? run[0]! : `${run[0]!} to ${run[run.length - 1]!}`));
}

/** cronstrue writes "last Friday" for `FRIL`; croner spells it `FRI#L`. */
function cronstrueDays(days: string): string {
  return days.replace(/#L/g, 'L');
}

function eventBridgeForCronstrue(pattern: string): string {
  return pattern.replace(/(\w+)#L/g, '$1L');
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
