import { describe, expect, it } from 'vitest';
import { localToInstant, offsetAt } from '../../src/core/zone.js';
import { at } from '../helpers.js';

const local = (text: string) => {
  const [date, time] = text.split(' ') as [string, string];
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const [hour, minute] = time.split(':').map(Number) as [number, number];
  return { year, month, day, hour, minute };
};
const instant = (zone: string, text: string) =>
  new Date(localToInstant(zone, local(text))).toISOString();

describe('the DST rule: a missing local time takes effect at the first instant after the gap', () => {
  it.each([
    ['Europe/Paris', '2026-03-29 02:30', '2026-03-29T01:00:00.000Z'],
    ['Europe/Paris', '2026-03-29 02:00', '2026-03-29T01:00:00.000Z'],
    ['America/New_York', '2026-03-08 02:30', '2026-03-08T07:00:00.000Z'],
    // Lord Howe moves by 30 minutes: 02:00 becomes 02:30 on the first Sunday of October.
    ['Australia/Lord_Howe', '2026-10-04 02:15', '2026-10-03T15:30:00.000Z'],
  ])('%s %s takes effect at %s', (zone, wall, expected) => {
    expect(instant(zone, wall)).toBe(expected);
  });
});

describe('the DST rule: a repeated local time takes effect at its first occurrence', () => {
  it.each([
    ['Europe/Paris', '2026-10-25 02:30', '2026-10-25T00:30:00.000Z'],
    ['America/New_York', '2026-11-01 01:30', '2026-11-01T05:30:00.000Z'],
    // Lord Howe goes back from 02:00 to 01:30 on the first Sunday of April.
    ['Australia/Lord_Howe', '2026-04-05 01:45', '2026-04-04T14:45:00.000Z'],
  ])('%s %s takes effect at %s', (zone, wall, expected) => {
    expect(instant(zone, wall)).toBe(expected);
  });
});

describe('local times away from a change of offset', () => {
  it.each([
    ['Europe/Paris', '2026-03-29 03:00', '2026-03-29T01:00:00.000Z'],
    ['Europe/Paris', '2026-10-25 03:00', '2026-10-25T02:00:00.000Z'],
    ['Asia/Kolkata', '2026-03-29 02:30', '2026-03-28T21:00:00.000Z'],
    ['UTC', '2026-03-29 02:30', '2026-03-29T02:30:00.000Z'],
  ])('%s %s is %s', (zone, wall, expected) => {
    expect(instant(zone, wall)).toBe(expected);
  });

  it('reads offsets from the tz database, including half hours', () => {
    expect(offsetAt('Asia/Kolkata', at('2026-07-01T00:00Z'))).toBe(5.5 * 3_600_000);
    expect(offsetAt('Australia/Lord_Howe', at('2026-07-01T00:00Z'))).toBe(10.5 * 3_600_000);
    expect(offsetAt('Australia/Lord_Howe', at('2026-01-01T00:00Z'))).toBe(11 * 3_600_000);
    expect(offsetAt('Europe/Paris', at('2026-03-29T00:59:59Z'))).toBe(3_600_000);
    expect(offsetAt('Europe/Paris', at('2026-03-29T01:00:00Z'))).toBe(2 * 3_600_000);
  });

  it('refuses a zone that does not exist', () => {
    expect(() => offsetAt('Europe/Atlantis', 0)).toThrow(/unknown time zone "Europe\/Atlantis"/);
  });
});
