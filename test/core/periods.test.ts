import { describe, expect, it } from 'vitest';
import { scheduleOnIntervals } from '../../src/core/schedule.js';
import { isoIntervals, window } from '../helpers.js';
import { periodSchedule } from './build.js';

const on =
  (...args: Parameters<typeof periodSchedule>) =>
  (from: string, to: string) =>
    isoIntervals(scheduleOnIntervals(periodSchedule(...args), window(from, to)));

describe('weekly periods', () => {
  it('office hours in Paris follow the local clock across the spring DST week', () => {
    const officeHours = on('Europe/Paris', [{ days: 'mon-fri', start: '07:00', stop: '19:00' }]);
    const week = officeHours('2026-03-26T00:00Z', '2026-03-31T00:00Z');
    expect(week).toEqual([
      ['2026-03-26T06:00:00.000Z', '2026-03-26T18:00:00.000Z'],
      ['2026-03-27T06:00:00.000Z', '2026-03-27T18:00:00.000Z'],
      // Clocks go forward on Sunday 29 March: 07:00 is now 05:00 UTC.
      ['2026-03-30T05:00:00.000Z', '2026-03-30T17:00:00.000Z'],
    ]);
  });

  it('office hours in New York across the autumn DST week', () => {
    const officeHours = on('America/New_York', [
      { days: 'mon-fri', start: '09:00', stop: '17:00' },
    ]);
    expect(officeHours('2026-10-30T00:00Z', '2026-11-03T00:00Z')).toEqual([
      ['2026-10-30T13:00:00.000Z', '2026-10-30T21:00:00.000Z'],
      ['2026-11-02T14:00:00.000Z', '2026-11-02T22:00:00.000Z'],
    ]);
  });

  it('Kolkata has no DST and a half-hour offset', () => {
    const officeHours = on('Asia/Kolkata', [{ days: 'mon', start: '09:00', stop: '18:00' }]);
    expect(officeHours('2026-03-30T00:00+05:30', '2026-03-31T00:00+05:30')).toEqual([
      ['2026-03-30T03:30:00.000Z', '2026-03-30T12:30:00.000Z'],
    ]);
  });

  it('Lord Howe shifts by 30 minutes', () => {
    const daily = on('Australia/Lord_Howe', [{ start: '08:00', stop: '18:00' }]);
    expect(daily('2026-04-03T12:00Z', '2026-04-06T12:00Z')).toEqual([
      ['2026-04-03T21:00:00.000Z', '2026-04-04T07:00:00.000Z'], // +11:00
      ['2026-04-04T21:30:00.000Z', '2026-04-05T07:30:00.000Z'], // +10:30 from 5 April
      ['2026-04-05T21:30:00.000Z', '2026-04-06T07:30:00.000Z'],
    ]);
  });

  it('a period that crosses midnight runs until its stop the next day', () => {
    const lateBatch = on('America/New_York', [{ days: 'fri', start: '22:00', stop: '02:00' }]);
    expect(lateBatch('2026-06-05T00:00Z', '2026-06-08T00:00Z')).toEqual([
      ['2026-06-06T02:00:00.000Z', '2026-06-06T06:00:00.000Z'],
    ]);
  });

  it('a cross-midnight period on the night clocks go forward is one hour shorter', () => {
    const lateBatch = on('America/New_York', [{ days: 'sat', start: '22:00', stop: '02:00' }]);
    // Saturday 7 March 22:00 EST; 02:00 Sunday does not exist, so the stop is at 03:00 EDT.
    expect(lateBatch('2026-03-07T00:00Z', '2026-03-09T00:00Z')).toEqual([
      ['2026-03-08T03:00:00.000Z', '2026-03-08T07:00:00.000Z'],
    ]);
  });

  it('a cross-midnight period on the night clocks go back is one hour longer', () => {
    const lateBatch = on('America/New_York', [{ days: 'sat', start: '22:00', stop: '02:00' }]);
    // Saturday 31 October 22:00 EDT to Sunday 02:00 EST.
    expect(lateBatch('2026-10-31T00:00Z', '2026-11-02T00:00Z')).toEqual([
      ['2026-11-01T02:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    ]);
  });

  it('a start inside the spring gap takes effect when the gap ends', () => {
    const night = on('Europe/Paris', [{ days: 'sun', start: '02:30', stop: '05:00' }]);
    expect(night('2026-03-28T00:00Z', '2026-03-30T00:00Z')).toEqual([
      ['2026-03-29T01:00:00.000Z', '2026-03-29T03:00:00.000Z'],
    ]);
  });

  it('a stop inside the repeated autumn hour takes effect at its first occurrence', () => {
    const night = on('Europe/Paris', [{ days: 'sun', start: '00:00', stop: '02:30' }]);
    expect(night('2026-10-24T00:00Z', '2026-10-26T00:00Z')).toEqual([
      ['2026-10-24T22:00:00.000Z', '2026-10-25T00:30:00.000Z'],
    ]);
  });

  it('stop equal to start means 24 hours, and 24:00 means the end of the day', () => {
    const allDay = on('UTC', [{ days: 'mon', start: '00:00', stop: '24:00' }]);
    const sameTimes = on('UTC', [{ days: 'mon', start: '08:00', stop: '08:00' }]);
    expect(allDay('2026-06-01T00:00Z', '2026-06-03T00:00Z')).toEqual([
      ['2026-06-01T00:00:00.000Z', '2026-06-02T00:00:00.000Z'],
    ]);
    expect(sameTimes('2026-06-01T00:00Z', '2026-06-03T00:00Z')).toEqual([
      ['2026-06-01T08:00:00.000Z', '2026-06-02T08:00:00.000Z'],
    ]);
  });

  it('periods of one schedule overlap into a union', () => {
    const split = on('UTC', [
      { days: 'mon', start: '08:00', stop: '12:00' },
      { days: 'mon', start: '11:00', stop: '14:00' },
      { days: 'mon', start: '14:00', stop: '15:00' },
    ]);
    expect(split('2026-06-01T00:00Z', '2026-06-02T00:00Z')).toEqual([
      ['2026-06-01T08:00:00.000Z', '2026-06-01T15:00:00.000Z'],
    ]);
  });

  it('mon#1 is the first Monday and friL the last Friday of each month', () => {
    const firstMonday = on('UTC', [{ days: 'mon#1', start: '09:00', stop: '10:00' }]);
    const lastFriday = on('UTC', [{ days: 'friL', start: '09:00', stop: '10:00' }]);
    const starts = (intervals: [string, string][]) => intervals.map(([s]) => s.slice(0, 10));
    expect(starts(firstMonday('2026-01-01T00:00Z', '2026-04-01T00:00Z'))).toEqual([
      '2026-01-05',
      '2026-02-02',
      '2026-03-02',
    ]);
    expect(starts(lastFriday('2026-01-01T00:00Z', '2026-04-01T00:00Z'))).toEqual([
      '2026-01-30',
      '2026-02-27',
      '2026-03-27',
    ]);
  });

  it('months and monthdays narrow the days (all filters must match)', () => {
    const monthEnd = on('UTC', [
      { days: 'mon-fri', months: 'jan-feb', monthdays: '27-L', start: '09:00', stop: '10:00' },
    ]);
    const starts = monthEnd('2026-01-01T00:00Z', '2026-05-01T00:00Z').map(([s]) => s.slice(0, 10));
    // 31 January 2026 is a Saturday; 28 February is a Saturday.
    expect(starts).toEqual(['2026-01-27', '2026-01-28', '2026-01-29', '2026-01-30', '2026-02-27']);
  });

  it('the last day of the month with L', () => {
    const lastDay = on('UTC', [{ monthdays: 'L', start: '09:00', stop: '10:00' }]);
    const starts = lastDay('2026-01-01T00:00Z', '2026-04-01T00:00Z').map(([s]) => s.slice(0, 10));
    expect(starts).toEqual(['2026-01-31', '2026-02-28', '2026-03-31']);
  });
});

describe('exception days', () => {
  it('turn the schedule off for the whole local day: a period crossing into it stops at midnight, one starting on it does not run', () => {
    const nights = on('Europe/Paris', [{ start: '20:00', stop: '08:00' }], {
      dates: ['2026-12-25'],
    });
    expect(nights('2026-12-24T00:00Z', '2026-12-27T12:00Z')).toEqual([
      ['2026-12-24T00:00:00.000Z', '2026-12-24T07:00:00.000Z'], // clipped to the window
      ['2026-12-24T19:00:00.000Z', '2026-12-24T23:00:00.000Z'], // Christmas Eve's night, cut at midnight
      // Christmas night (from 25 December 20:00) does not run at all.
      ['2026-12-26T19:00:00.000Z', '2026-12-27T07:00:00.000Z'],
    ]);
  });

  it('a public holiday that lasts several days takes out every one of its days', () => {
    // Eid al-Fitr is a 72-hour public holiday in the United Arab Emirates in date-holidays.
    const daily = on('Asia/Dubai', [{ start: '08:00', stop: '18:00' }], { holidays: ['AE'] });
    const days = daily('2026-03-18T00:00+04:00', '2026-03-25T00:00+04:00').map(([s]) =>
      s.slice(0, 10),
    );
    expect(days).toEqual(['2026-03-18', '2026-03-19', '2026-03-23', '2026-03-24']);
  });

  it('public holidays of a country come from the holiday calendar', () => {
    const officeHours = on('Europe/Paris', [{ days: 'mon-fri', start: '07:00', stop: '19:00' }], {
      holidays: ['FR'],
    });
    // Thursday 14 May 2026 is Ascension Day, Friday 15 May is not a holiday.
    expect(officeHours('2026-05-14T00:00Z', '2026-05-16T00:00Z')).toEqual([
      ['2026-05-15T05:00:00.000Z', '2026-05-15T17:00:00.000Z'],
    ]);
  });

  it('regional holidays differ from the national ones', () => {
    const bavaria = on('Europe/Berlin', [{ days: 'tue', start: '08:00', stop: '18:00' }], {
      holidays: ['DE-BY'],
    });
    const berlin = on('Europe/Berlin', [{ days: 'tue', start: '08:00', stop: '18:00' }], {
      holidays: ['DE-BE'],
    });
    // Tuesday 6 January 2026 is Epiphany, a public holiday in Bavaria only.
    expect(bavaria('2026-01-06T00:00Z', '2026-01-07T00:00Z')).toEqual([]);
    expect(berlin('2026-01-06T00:00Z', '2026-01-07T00:00Z')).toHaveLength(1);
  });
});
