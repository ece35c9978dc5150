/**
 * 5-field cron follows Vixie cron. Most cases are ported from the test suites of
 * two Vixie-compatible libraries:
 * - cronsim (targets Debian's Vixie cron): github.com/cuu508/cronsim,
 *   tests/test_cronsim.py (TestParse, TestValidation, TestIterator);
 * - croniter with implement_cron_bug=True (its name for Vixie's day rule):
 *   github.com/pallets-eco/croniter, src/croniter/tests/test_croniter.py
 *   (test_dom_dow_vixie_cron_bug, test_weekday, test_day).
 * Where cronsim follows Debian's additions rather than Vixie (`5/15`, refusing
 * `30 2`), the case is left out or says so.
 */
import { describe, expect, it } from 'vitest';
import { firingsOf, parseExpression } from '../../src/core/expressions.js';
import { parseVixieCron } from '../../src/core/vixie-cron.js';
import { at } from '../helpers.js';

function parsed(text: string) {
  const result = parseVixieCron(text);
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

/** The first `count` firings strictly after `after` (wall time, written in UTC). */
function next(text: string, after: string, count: number): string[] {
  const result = parseExpression(text);
  if (!result.ok) throw new Error(result.error);
  const from = at(`${after}Z`) + 1;
  return firingsOf(result.value)
    .between(from, from + 2 * 366 * 86_400_000)
    .slice(0, count)
    .map((t) => new Date(t).toISOString().slice(0, 16));
}

function refusal(text: string): string {
  const result = parseExpression(text);
  if (result.ok) throw new Error(`expected "${text}" to be refused`);
  return result.error;
}

describe('5-field cron fields (cronsim TestParse)', () => {
  const range = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i);

  it('parses stars', () => {
    expect(parsed('* * * * *')).toMatchObject({
      minute: range(0, 59),
      hour: range(0, 23),
      dayOfMonth: range(1, 31),
      month: range(1, 12),
      dayOfWeek: range(0, 6), // 7 is Sunday again, folded onto 0
    });
  });

  it.each([
    ['1 * * * *', 'minute', [1]],
    ['* * * * 1', 'dayOfWeek', [1]],
    ['* * * * 0', 'dayOfWeek', [0]],
    ['* * * * 7', 'dayOfWeek', [0]],
    ['1,2,3 * * * *', 'minute', [1, 2, 3]],
    ['1-3 * * * *', 'minute', [1, 2, 3]],
    ['1-3,7-9 * * * *', 'minute', [1, 2, 3, 7, 8, 9]],
    ['*/15 * * * *', 'minute', [0, 15, 30, 45]],
    ['0-10/2 * * * *', 'minute', [0, 2, 4, 6, 8, 10]],
    ['* * * * 0-2', 'dayOfWeek', [0, 1, 2]],
    ['* * * * sun-tue', 'dayOfWeek', [0, 1, 2]],
    ['* * * * */2', 'dayOfWeek', [0, 2, 4, 6]],
    ['* * * * MON', 'dayOfWeek', [1]],
    ['* * * * mon', 'dayOfWeek', [1]],
    ['* * * JAN *', 'month', [1]],
    // croniter test_block_dup_ranges: duplicates and overlaps are squashed.
    ['* 5,5,1-6 * * *', 'hour', [1, 2, 3, 4, 5, 6]],
    ['* * * * 2-3,4-5,3,3,3', 'dayOfWeek', [2, 3, 4, 5]],
    ['59 23 * 1 wed,fri,mon-thu,tue,tue', 'dayOfWeek', [1, 2, 3, 4, 5]],
  ] as const)('%s: %s is %j', (text, field, values) => {
    expect(parsed(text)[field]).toEqual(values);
  });

  it('takes a step wider than its range as the start of the range only (Vixie, not croner)', () => {
    expect(parsed('*/100 * * * *').minute).toEqual([0]);
    expect(parsed('0 */100 * * *').hour).toEqual([0]);
    expect(parsed('0 0 */100 * *').dayOfMonth).toEqual([1]);
    expect(parsed('0 0 1 */100 *').month).toEqual([1]);
    expect(parsed('0 0 * * */100').dayOfWeek).toEqual([0]);
    expect(parsed('10-20/100 * * * *').minute).toEqual([10]);
  });

  it.each([
    ['* * * * 1', 'and'], // cronsim: unrestricted day, restricted weekday
    ['* * 1 * *', 'and'], // cronsim: restricted day, unrestricted weekday
    ['0 8 1-7 * */7', 'and'], // starts with "*": DOW_STAR, whatever the step
    ['1 1 */100,1-7 * MON', 'and'], // starts with "*": DOM_STAR
    ['0 0 1 * wed', 'or'],
    ['0 0 1-31/2 * 6', 'or'], // the same days as */2, but not written with a star
    ['0 0 1,*/2 * 6', 'or'], // a star later in the list does not count
  ] as const)('%s combines its day fields with %s', (text, rule) => {
    expect(parsed(text).dayRule).toBe(rule);
  });
});

describe('5-field cron refusals name the field (cronsim TestValidation)', () => {
  const patterns = [
    ['%s * * * *', 'minute'],
    ['* %s * * *', 'hour'],
    ['* * %s * *', 'day-of-month'],
    ['* * * %s *', 'month'],
    ['* * * * %s', 'day-of-week'],
    ['1-%s * * * *', 'minute'],
    ['%s-59 * * * *', 'minute'],
    ['* * * %s-DEC *', 'month'],
    ['* * * JAN-%s *', 'month'],
    ['* * * * %s-SUN', 'day-of-week'],
    ['* * * * MON-%s', 'day-of-week'],
  ] as const;
  const badValues = ['-1', '61', 'ABC', '2/', '/2', '2#', '#2', '1##1', '1//2', '¹'];
  it.each(patterns.flatMap(([p, field]) => badValues.map((v) => [p.replace('%s', v), field])))(
    '%s is refused, naming %s',
    (text, field) => {
      expect(refusal(text)).toMatch(new RegExp(`^"[^"]+": ${field} "`));
    },
  );

  it.each([
    ['* * 5-1 * *', /^"\* \* 5-1 \* \*": day-of-month "5-1": the range "5-1" runs backwards/],
    ['1-1_0 * * * *', /: minute "1-1_0": "1-1_0" is not a value, range or step; write 0-59/],
    ['*/0 * * * *', /: minute "\*\/0": a step of 0 never moves; write a step of 1 or more/],
    ['* * * * 1#0', /: day-of-week "1#0"/],
    ['* * * * 1#6', /: day-of-week "1#6"/],
    ['* * * * 5L-6', /: day-of-week "5L-6"/],
    ['* * * * 5L#1', /: day-of-week "5L#1"/],
    ['* * * * 5L/3', /: day-of-week "5L\/3"/],
    ['* * * * 8', /: day-of-week "8": 8 is out of range; write 0-7 \(0 and 7 are Sunday\)/],
    ['* * 32 * *', /: day-of-month "32": 32 is out of range; write 1-31/],
    ['* * * janu *', /: month "janu": "janu" is not valid here; write 1-12 or JAN-DEC/],
    ['* * 1,,2 * *', /: day-of-month "1,,2": an item of the list is empty/],
    // Vixie refuses a step after a single value (Debian's cron and cronsim accept it).
    ['5/15 * * * *', /: minute "5\/15": a step needs a range; write "5-59\/15" or "\*\/15"/],
    // croner's "+" (AND) modifier is not cron: Vixie decides AND or OR itself.
    ['0 7 * * +1', /: day-of-week "\+1"/],
  ])('%s is refused with the fix', (text, reason) => {
    expect(refusal(text)).toMatch(reason);
  });

  it("never shows croner's own message", () => {
    for (const text of ['*/100 * * * *', '0 0 */32 * *', '0 0 * */13 *'])
      expect(parseExpression(text).ok).toBe(true);
    expect(refusal('*/0 * * * *')).not.toMatch(/CronPattern|illegal stepping/);
  });
});

describe('5-field cron firings', () => {
  it('"0 8 1-7 * */7" is the first Sunday of the month: */7 starts with a star, so both day fields must match (cronsim test_it_handles_dow_star)', () => {
    expect(next('1 1 1-7 * */7', '2020-01-01T00:00', 4)).toEqual([
      '2020-01-05T01:01',
      '2020-02-02T01:01',
      '2020-03-01T01:01',
      '2020-04-05T01:01',
    ]);
    expect(next('0 8 1-7 * */7', '2026-06-01T00:00', 3)).toEqual([
      '2026-06-07T08:00',
      '2026-07-05T08:00',
      '2026-08-02T08:00',
    ]);
  });

  it('"*/100,1-7" in day-of-month keeps the AND rule: the first Monday (cronsim test_it_handles_dom_star)', () => {
    expect(next('1 1 */100,1-7 * MON', '2020-01-01T00:00', 4)).toEqual([
      '2020-01-06T01:01',
      '2020-02-03T01:01',
      '2020-03-02T01:01',
      '2020-04-06T01:01',
    ]);
  });

  it('day 1 AND the fourth Monday never happens (cronsim test_it_handles_no_matches)', () => {
    expect(next('1 1 */100 * MON#4', '2020-01-01T00:00', 1)).toEqual([]);
  });

  it('"*/2" in day-of-month with a weekday is the intersection (croniter test_dom_dow_vixie_cron_bug, implement_cron_bug=True)', () => {
    expect(next('0 16 */2 * sat', '2023-05-02T00:00', 4)).toEqual([
      '2023-05-13T16:00',
      '2023-05-27T16:00',
      '2023-06-03T16:00',
      '2023-06-17T16:00',
    ]);
  });

  it('two restricted day fields are a union (croniter test_weekday)', () => {
    expect(next('0 0 1 * wed', '2010-01-25T00:00', 3)).toEqual([
      '2010-01-27T00:00',
      '2010-02-01T00:00',
      '2010-02-03T00:00',
    ]);
  });

  it('"*/3" in day-of-month counts from day 1 (croniter test_day)', () => {
    expect(next('0 0 */3 * *', '2010-02-24T12:09', 3)).toEqual([
      '2010-02-25T00:00',
      '2010-02-28T00:00',
      '2010-03-01T00:00',
    ]);
  });

  it('"*/100" in minutes fires at minute 0 only', () => {
    expect(next('*/100 9 * * *', '2026-06-01T00:00', 2)).toEqual([
      '2026-06-01T09:00',
      '2026-06-02T09:00',
    ]);
  });

  it('keeps the L, # extensions lightsout accepted before (cronsim TestIterator)', () => {
    expect(next('1 1 L * *', '2020-01-01T00:00', 1)).toEqual(['2020-01-31T01:01']);
    expect(next('1 1 * * 5L', '2020-01-01T00:00', 3)).toEqual([
      '2020-01-31T01:01',
      '2020-02-28T01:01',
      '2020-03-27T01:01',
    ]);
    for (const text of ['1 1 * * 0L', '1 1 * * 7L'])
      expect(next(text, '2020-01-01T00:00', 1)).toEqual(['2020-01-26T01:01']);
    expect(next('1 1 * * 1#2', '2020-01-01T00:00', 1)).toEqual(['2020-01-13T01:01']);
  });
});
