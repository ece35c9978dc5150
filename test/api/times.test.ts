import { describe, expect, it } from 'vitest';
import { timeOf } from '../../src/api/context.js';

describe('times in requests', () => {
  it('reads a time without an offset in the given zone', () => {
    expect(timeOf('2026-04-01T05:00:30', 'Europe/Paris', 'from')).toBe(
      Date.parse('2026-04-01T03:00:30Z'),
    );
    expect(timeOf('2026-04-01', 'America/New_York', 'from')).toBe(
      Date.parse('2026-04-01T04:00:00Z'),
    );
  });

  it.each([
    ['2026-04-01T05:00:30Z', '2026-04-01T05:00:30Z'],
    ['2026-04-01T05:00:30.250z', '2026-04-01T05:00:30.250Z'],
    ['2026-04-01T05:00:30+02:00', '2026-04-01T03:00:30Z'],
    ['2026-04-01T05:00:30-0530', '2026-04-01T10:30:30Z'],
    ['2026-04-01T05:00-05', '2026-04-01T10:00:00Z'],
  ])('takes the offset %s carries, whatever the zone', (text, instant) => {
    for (const zone of ['UTC', 'Europe/Paris', 'Asia/Kolkata'])
      expect(timeOf(text, zone, 'from')).toBe(Date.parse(instant));
  });

  it.each(['tomorrow', '2026-13-01T00:00', '2026-04-01T25:00Z', ''])(
    'refuses %j, naming the field',
    (text) => {
      expect(() => timeOf(text, 'UTC', 'start_time')).toThrow(/start_time/);
    },
  );
});
