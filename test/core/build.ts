/** Builders for core objects in tests, through the same parsers the config uses. */
import type { Exceptions, Expression, Period, Schedule } from '../../src/core/glossary.js';
import type { Parsed } from '../../src/core/glossary.js';
import { parseExpression } from '../../src/core/expressions.js';
import {
  parseClock,
  parseDays,
  parseMonthdays,
  parseMonths,
} from '../../src/core/period-fields.js';

export function value<T>(parsed: Parsed<T>): T {
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

export interface PeriodText {
  days?: string;
  months?: string;
  monthdays?: string;
  start: string;
  stop: string;
}

export function period(text: PeriodText): Period {
  return {
    days: value(parseDays(text.days ?? '*')),
    months: value(parseMonths(text.months ?? '1-12')),
    monthdays: value(parseMonthdays(text.monthdays ?? '1-31')),
    start: value(parseClock(text.start, false)),
    stop: value(parseClock(text.stop, true)),
  };
}

const NO_EXCEPTIONS: Exceptions = { dates: [], holidays: [] };

export function periodSchedule(
  timezone: string,
  periods: PeriodText[],
  except: Partial<Exceptions> = {},
): Schedule {
  return {
    name: 'test',
    timezone,
    rule: { kind: 'periods', periods: periods.map(period) },
    except: { ...NO_EXCEPTIONS, ...except },
  };
}

export function expression(text: string): Expression {
  return value(parseExpression(text));
}

export function expressionSchedule(
  timezone: string,
  start: string,
  stop: string,
  except: Partial<Exceptions> = {},
): Schedule {
  return {
    name: 'test',
    timezone,
    rule: { kind: 'expressions', start: expression(start), stop: expression(stop) },
    except: { ...NO_EXCEPTIONS, ...except },
  };
}
