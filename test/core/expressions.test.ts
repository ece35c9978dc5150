import { describe, expect, it } from 'vitest';
import { firesMoreThan, firingsOf, parseExpression } from '../../src/core/expressions.js';
import { expressionFiringInstants, scheduleOnIntervals } from '../../src/core/schedule.js';
import { isoIntervals, window } from '../helpers.js';
import { expression, expressionSchedule } from './build.js';

const on =
  (...args: Parameters<typeof expressionSchedule>) =>
  (from: string, to: string) =>
    isoIntervals(scheduleOnIntervals(expressionSchedule(...args), window(from, to)));

const fires = (zone: string, text: string, from: string, to: string) =>
  expressionFiringInstants(zone, firingsOf(expression(text)), window(from, to)).map((t) =>
    new Date(t).toISOString(),
  );

describe('parsing start and stop expressions', () => {
  it.each([
    ['0 7 * * 1-5', 'cron'],
    ['cron(0 7 ? * MON-FRI *)', 'eventbridge-cron'],
    ['cron(0 7 1 * ? *)', 'eventbridge-cron'],
    ['at(2026-12-24T18:00:00)', 'at'],
  ])('%s is %s', (text, syntax) => {
    expect(expression(text).syntax).toBe(syntax);
  });

  it.each([
    ['rate(5 minutes)', /no fixed time of day/],
    ['cron(0 7 * * MON-FRI *)', /exactly one of day-of-month and day-of-week must be "\?"/],
    ['cron(0 7 ? * ? *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 7 ? * MON-FRI)', /has 5 fields; EventBridge cron\(\) takes 6/],
    ['cron(0 7 ? * FOO *)', /cron\(0 7 \? \* FOO \*\)/],
    ['0 7 * *', /write 5-field cron/],
    ['61 7 * * *', /61 7/],
    ['at(2026-12-24 18:00)', /write at\(yyyy-mm-ddThh:mm:ss\)/],
    ['at(2026-02-30T18:00:00)', /not a valid at\(\) expression/],
    ['at(2026-02-24T24:00:00)', /not a valid at\(\) expression/],
    [
      'cron(0 7 ? * 0 *)',
      /day-of-week "0" is not valid in EventBridge cron\(\); write 1-7 or SUN-SAT/,
    ],
    ['cron(0 7 ? * 2-8 *)', /day-of-week "2-8" is not valid/],
    ['cron(0 7 ? * 6#L *)', /day-of-week "6#L" is not valid/],
  ])('%s is refused with a reason', (text, reason) => {
    const parsed = parseExpression(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(reason);
  });
});

describe('EventBridge cron()', () => {
  it('counts day-of-week 1-7 from Sunday', () => {
    expect(fires('UTC', 'cron(0 7 ? * 2-6 *)', '2026-06-06T00:00Z', '2026-06-09T00:00Z')).toEqual([
      '2026-06-08T07:00:00.000Z', // Saturday 6 and Sunday 7 June do not fire
    ]);
    expect(fires('UTC', 'cron(0 7 ? * 1 *)', '2026-06-06T00:00Z', '2026-06-09T00:00Z')).toEqual([
      '2026-06-07T07:00:00.000Z',
    ]);
  });

  it('L in day-of-week is the last given weekday of the month', () => {
    expect(fires('UTC', 'cron(0 9 ? * 6L *)', '2026-01-01T00:00Z', '2026-03-01T00:00Z')).toEqual([
      '2026-01-30T09:00:00.000Z',
      '2026-02-27T09:00:00.000Z',
    ]);
  });

  it('L in day-of-month is the last day of the month', () => {
    expect(fires('UTC', 'cron(0 9 L * ? *)', '2026-02-01T00:00Z', '2026-04-01T00:00Z')).toEqual([
      '2026-02-28T09:00:00.000Z',
      '2026-03-31T09:00:00.000Z',
    ]);
  });

  it('W is the weekday nearest to a day of the month', () => {
    // 15 August 2026 is a Saturday, 15 November a Sunday.
    expect(fires('UTC', 'cron(0 9 15W * ? *)', '2026-08-01T00:00Z', '2026-12-01T00:00Z')).toEqual([
      '2026-08-14T09:00:00.000Z',
      '2026-09-15T09:00:00.000Z',
      '2026-10-15T09:00:00.000Z',
      '2026-11-16T09:00:00.000Z',
    ]);
  });

  it('# is the nth weekday of the month', () => {
    expect(fires('UTC', 'cron(0 9 ? * 2#1 *)', '2026-01-01T00:00Z', '2026-03-01T00:00Z')).toEqual([
      '2026-01-05T09:00:00.000Z',
      '2026-02-02T09:00:00.000Z',
    ]);
  });

  it('takes steps written start/step, as AWS writes them', () => {
    expect(
      fires('UTC', 'cron(0/15 7 ? * MON *)', '2026-06-01T00:00Z', '2026-06-02T00:00Z'),
    ).toEqual([
      '2026-06-01T07:00:00.000Z',
      '2026-06-01T07:15:00.000Z',
      '2026-06-01T07:30:00.000Z',
      '2026-06-01T07:45:00.000Z',
    ]);
  });

  it('honours the year field', () => {
    expect(fires('UTC', 'cron(0 9 1 * ? 2027)', '2026-11-01T00:00Z', '2027-02-15T00:00Z')).toEqual([
      '2027-01-01T09:00:00.000Z',
      '2027-02-01T09:00:00.000Z',
    ]);
  });
});

describe('cron and the DST rule', () => {
  it('a firing inside the spring gap happens when the gap ends', () => {
    expect(fires('Europe/Paris', '30 2 * * *', '2026-03-28T12:00Z', '2026-03-30T12:00Z')).toEqual([
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('a firing in the repeated autumn hour happens once, at the first occurrence', () => {
    expect(fires('Europe/Paris', '30 2 * * *', '2026-10-24T12:00Z', '2026-10-26T12:00Z')).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('an hourly cron fires once per local hour on the day clocks go back', () => {
    const firings = fires(
      'America/New_York',
      '0 * * * *',
      '2026-11-01T04:00Z',
      '2026-11-02T05:00Z',
    );
    expect(firings).toHaveLength(24);
    expect(firings.slice(0, 3)).toEqual([
      '2026-11-01T04:00:00.000Z',
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T07:00:00.000Z',
    ]);
  });

  it('5-field cron counts day-of-week from Sunday = 0, with 7 also Sunday', () => {
    expect(fires('UTC', '0 9 * * 0', '2026-06-01T00:00Z', '2026-06-15T00:00Z')).toEqual(
      fires('UTC', '0 9 * * 7', '2026-06-01T00:00Z', '2026-06-15T00:00Z'),
    );
    expect(fires('UTC', '0 9 * * 0', '2026-06-01T00:00Z', '2026-06-15T00:00Z')).toEqual([
      '2026-06-07T09:00:00.000Z',
      '2026-06-14T09:00:00.000Z',
    ]);
  });
});

describe('start/stop schedules', () => {
  it('are on from each start to the next stop', () => {
    const weekdays = on('Europe/Paris', 'cron(0 7 ? * MON-FRI *)', 'cron(0 19 ? * MON-FRI *)');
    expect(weekdays('2026-03-27T00:00Z', '2026-03-31T00:00Z')).toEqual([
      ['2026-03-27T06:00:00.000Z', '2026-03-27T18:00:00.000Z'],
      ['2026-03-30T05:00:00.000Z', '2026-03-30T17:00:00.000Z'],
    ]);
  });

  it('take the state at the window start from the most recent firing before it', () => {
    const weekdays = on('UTC', '0 7 * * 1-5', '0 19 * * 1-5');
    expect(weekdays('2026-06-01T12:00Z', '2026-06-01T20:00Z')).toEqual([
      ['2026-06-01T12:00:00.000Z', '2026-06-01T19:00:00.000Z'],
    ]);
  });

  it('look back as far as needed: a yearly start months ago still counts', () => {
    const summer = on('UTC', '0 0 1 6 *', '0 0 1 9 *');
    expect(summer('2026-08-01T00:00Z', '2026-10-01T00:00Z')).toEqual([
      ['2026-08-01T00:00:00.000Z', '2026-09-01T00:00:00.000Z'],
    ]);
  });

  it('one-off at() start and stop', () => {
    const party = on('Europe/Paris', 'at(2026-12-24T18:00:00)', 'at(2026-12-25T02:00:00)');
    expect(party('2026-12-01T00:00Z', '2027-01-01T00:00Z')).toEqual([
      ['2026-12-24T17:00:00.000Z', '2026-12-25T01:00:00.000Z'],
    ]);
    expect(party('2026-12-24T20:00Z', '2026-12-24T21:00Z')).toEqual([
      ['2026-12-24T20:00:00.000Z', '2026-12-24T21:00:00.000Z'],
    ]);
  });

  it('when start and stop fire at the same instant, on wins', () => {
    const clash = on('UTC', '0 7 * * *', '0 7,19 * * *');
    expect(clash('2026-06-01T00:00Z', '2026-06-02T00:00Z')).toEqual([
      ['2026-06-01T07:00:00.000Z', '2026-06-01T19:00:00.000Z'],
    ]);
  });

  it('never fired before: off until the first start', () => {
    const later = on('UTC', 'cron(0 9 1 1 ? 2027)', 'cron(0 17 1 1 ? 2027)');
    expect(later('2026-12-31T00:00Z', '2027-01-02T00:00Z')).toEqual([
      ['2027-01-01T09:00:00.000Z', '2027-01-01T17:00:00.000Z'],
    ]);
  });

  it('exception days apply to expression schedules too', () => {
    const weekdays = on('UTC', '0 7 * * 1-5', '0 19 * * 1-5', { dates: ['2026-06-02'] });
    expect(weekdays('2026-06-01T00:00Z', '2026-06-04T00:00Z')).toEqual([
      ['2026-06-01T07:00:00.000Z', '2026-06-01T19:00:00.000Z'],
      ['2026-06-03T07:00:00.000Z', '2026-06-03T19:00:00.000Z'],
    ]);
  });
});

describe('how often an expression fires on its busiest day', () => {
  const parsed = (text: string) => {
    const result = parseExpression(text);
    if (!result.ok) throw new Error(result.error);
    return result.value;
  };
  it.each([
    ['0 7 * * 1-5', false],
    ['*/15 * * * *', false],
    ['*/10 * * * *', true],
    ['* * 1 * *', true],
    ['cron(0/15 9-17 ? * MON-FRI *)', false],
    ['cron(0/5 9-17 ? * MON-FRI *)', true],
    ['cron(* 9 ? * MON *)', false],
    ['cron(* 9-10 ? * MON *)', true],
    ['at(2026-12-24T18:00:00)', false],
  ])('%s fires more than 96 times a day: %s', (text, busy) => {
    expect(firesMoreThan(parsed(text), 96)).toBe(busy);
  });
});
