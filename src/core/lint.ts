/**
 * Likely mistakes in a fleet that is valid but probably not what its author
 * meant. Each warning names the field (as a config path) and the fix.
 */
import type { Expression, Instant, Interval } from './glossary.js';
import { firingsOf } from './expressions.js';
import type { Fleet } from './planner.js';
import { expressionFiringInstants, scheduleOnIntervals } from './schedule.js';
import { formatClock } from './period-fields.js';

export type FieldPath = readonly (string | number)[];

export interface LintWarning {
  readonly path: FieldPath;
  readonly message: string;
}

const HORIZON_DAYS = 366;
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** Warnings for `fleet`, looking `HORIZON_DAYS` ahead of `now`. */
export function lintFleet(fleet: Fleet, now: Instant): LintWarning[] {
  const horizon: Interval = { start: now, end: now + HORIZON_DAYS * 86_400_000 };
  const warnings: LintWarning[] = [];
  const used = new Set(fleet.environments.map((e) => e.schedule));
  for (const schedule of fleet.schedules.values()) {
    const at = ['schedules', schedule.name];
    const rule = schedule.rule;
    if (rule.kind === 'expressions') {
      for (const [field, expression] of [
        ['start', rule.start],
        ['stop', rule.stop],
      ] as const) {
        const numeric = numericEventBridgeWeekdays(expression);
        if (numeric !== undefined) warnings.push({ path: [...at, field], message: numeric });
        const starred = starredDayField(expression);
        if (starred !== undefined) warnings.push({ path: [...at, field], message: starred });
      }
      const clash = firstCommonFiring(schedule.timezone, rule.start, rule.stop, horizon);
      if (clash !== undefined) {
        warnings.push({
          path: [...at, 'stop'],
          message: `start and stop both fire at ${new Date(clash).toISOString()}, so the stop never takes effect then (on wins); give them different times`,
        });
      }
    } else {
      rule.periods.forEach((period, index) => {
        if (period.stop === period.start) {
          warnings.push({
            path: [...at, 'periods', index, 'stop'],
            message: `stop equals start (${formatClock(period.start)}), which lightsout reads as on for 24 hours; for a whole day write start: "00:00", stop: "24:00", otherwise fix one of the times`,
          });
        }
      });
    }
    const on = scheduleOnIntervals(schedule, horizon);
    if (on.length === 0) {
      warnings.push({
        path: at,
        message:
          'this schedule is never on in the next 12 months; check its days, dates and exceptions',
      });
    } else if (on.length === 1 && on[0]!.start === horizon.start && on[0]!.end === horizon.end) {
      warnings.push({
        path: at,
        message:
          'this schedule is never off in the next 12 months; give it a stop time, or drop the schedule and keep the environment on with a hold',
      });
    }
    if (!used.has(schedule.name)) {
      warnings.push({
        path: at,
        message:
          'no environment uses this schedule; remove it or set schedule: ' +
          schedule.name +
          ' on an environment',
      });
    }
  }
  if (fleet.environments.length === 0) {
    warnings.push({
      path: [],
      message:
        'this config defines no environments, so lightsout has nothing to do; add one under environments:',
    });
  }
  for (const environment of fleet.environments) {
    if (environment.schedule === undefined) {
      warnings.push({
        path: ['environments', environment.name],
        message:
          'this environment has no schedule, so it stays off unless a reservation or a hold turns it on; add schedule: NAME if that is not what you want',
      });
    }
  }
  fleet.reservations.forEach((r, index) => {
    if (r.to <= now)
      warnings.push({
        path: ['reservations', index],
        message: `this reservation ended at ${new Date(r.to).toISOString()}; remove it`,
      });
  });
  fleet.holds.forEach((h, index) => {
    if (h.until <= now)
      warnings.push({
        path: ['holds', index],
        message: `this hold ended at ${new Date(h.until).toISOString()}; remove it`,
      });
  });
  return warnings;
}

/**
 * EventBridge counts day-of-week 1-7 from Sunday, so `1-5`, meant as Monday to
 * Friday by anyone used to Unix cron, is Sunday to Thursday.
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
 */
function numericEventBridgeWeekdays(expression: Expression): string | undefined {
  if (expression.syntax !== 'eventbridge-cron') return undefined;
  const field =
    expression.source
      .replace(/^cron\(|\)$/gi, '')
      .trim()
      .split(/\s+/)[4] ?? '';
  // Digits after "#" count occurrences, not days.
  if (!/(^|[^#\d])\d/.test(field)) return undefined;
  const rename = (names: (n: number) => string) =>
    field.replace(/(#?)(\d+)/g, (all: string, hash: string, digits: string) =>
      hash === '' ? names(Number(digits)) : all,
    );
  const asEventBridge = rename((n) => WEEKDAYS[(n - 1 + 7) % 7] ?? String(n));
  const asUnix = rename((n) => WEEKDAYS[n % 7] ?? String(n));
  return `day-of-week "${field}" counts from Sunday in EventBridge, so it means ${asEventBridge}; if you meant ${asUnix}, write ${asUnix}`;
}

/**
 * Vixie cron reads a day field that starts with "*" as unrestricted for its
 * either-day rule, even when it is a step: `0 8 1-7 * *\/7` is the days 1-7 that
 * are Sundays, where people often expect the days 1-7 and every Sunday
 * (docs/schedules.md). Said when the other day field is restricted.
 */
function starredDayField(expression: Expression): string | undefined {
  if (expression.syntax !== 'cron') return undefined;
  const [, , dayOfMonth = '', , dayOfWeek = ''] = expression.source.trim().split(/\s+/);
  const starred = (f: string) => f.startsWith('*') && f !== '*';
  const [name, field, range, other] = starred(dayOfWeek)
    ? ['day-of-week', dayOfWeek, '0-7', dayOfMonth]
    : starred(dayOfMonth)
      ? ['day-of-month', dayOfMonth, '1-31', dayOfWeek]
      : [];
  if (field === undefined || other === undefined || other.startsWith('*') || other === '?')
    return undefined;
  return `${name} "${field}" starts with "*", so (as in Vixie cron) a day must match both day fields, not either; to fire on either, write it without the star: "${range}${field.slice(1)}"`;
}

function firstCommonFiring(
  zone: string,
  start: Expression,
  stop: Expression,
  window: Interval,
): Instant | undefined {
  const stops = new Set(expressionFiringInstants(zone, firingsOf(stop), window));
  return expressionFiringInstants(zone, firingsOf(start), window).find((t) => stops.has(t));
}
