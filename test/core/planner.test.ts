import { describe, expect, it } from 'vitest';
import type { Hold, Reservation } from '../../src/core/glossary.js';
import type { Fleet } from '../../src/core/planner.js';
import { desiredStateAt, environmentTimeline, planFleet } from '../../src/core/planner.js';
import { at, window } from '../helpers.js';
import { periodSchedule } from './build.js';

const officeHours = {
  ...periodSchedule('UTC', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
  name: 'office-hours',
};

function fleet(reservations: Reservation[] = [], holds: Hold[] = []): Fleet {
  return {
    schedules: new Map([['office-hours', officeHours]]),
    environments: [
      { name: 'dev', timezone: 'UTC', schedule: 'office-hours' },
      { name: 'demo', timezone: 'UTC' },
    ],
    reservations,
    holds,
  };
}

const reservation = (environment: string, from: string, to: string): Reservation => ({
  environment,
  from: at(from),
  to: at(to),
});
const hold = (environment: string, state: 'on' | 'off', until: string, from?: string): Hold => ({
  environment,
  state,
  until: at(until),
  ...(from === undefined ? {} : { from: at(from) }),
});

// Monday 1 June 2026.
const MONDAY_NOON = '2026-06-01T12:00Z';
const MONDAY_NIGHT = '2026-06-01T22:00Z';

describe('desired state', () => {
  it('follows the schedule when nothing else applies', () => {
    expect(desiredStateAt(fleet(), 'dev', at(MONDAY_NOON))).toBe('on');
    expect(desiredStateAt(fleet(), 'dev', at(MONDAY_NIGHT))).toBe('off');
  });

  it('is off for an environment without a schedule', () => {
    expect(desiredStateAt(fleet(), 'demo', at(MONDAY_NOON))).toBe('off');
  });

  it('is on during a reservation, which is half-open [from, to)', () => {
    const reserved = fleet([reservation('demo', '2026-06-01T21:00Z', '2026-06-01T23:00Z')]);
    expect(desiredStateAt(reserved, 'demo', at('2026-06-01T20:59:59.999Z'))).toBe('off');
    expect(desiredStateAt(reserved, 'demo', at('2026-06-01T21:00Z'))).toBe('on');
    expect(desiredStateAt(reserved, 'demo', at('2026-06-01T22:59:59.999Z'))).toBe('on');
    expect(desiredStateAt(reserved, 'demo', at('2026-06-01T23:00Z'))).toBe('off');
  });

  it('is on during a hold-on, outside the schedule', () => {
    expect(
      desiredStateAt(fleet([], [hold('dev', 'on', '2026-06-02T00:00Z')]), 'dev', at(MONDAY_NIGHT)),
    ).toBe('on');
  });

  it('hold-off wins over the schedule, reservations and a hold-on', () => {
    const everything = fleet(
      [reservation('dev', '2026-06-01T00:00Z', '2026-06-02T00:00Z')],
      [
        hold('dev', 'on', '2026-06-02T00:00Z'),
        hold('dev', 'off', '2026-06-01T13:00Z', '2026-06-01T11:00Z'),
      ],
    );
    expect(desiredStateAt(everything, 'dev', at(MONDAY_NOON))).toBe('off');
    expect(desiredStateAt(everything, 'dev', at('2026-06-01T13:00Z'))).toBe('on');
  });

  it('a hold without a start is in force from before any window', () => {
    expect(
      desiredStateAt(fleet([], [hold('dev', 'off', '2026-06-05T00:00Z')]), 'dev', at(MONDAY_NOON)),
    ).toBe('off');
  });

  it('names an unknown environment', () => {
    expect(() => desiredStateAt(fleet(), 'prod', 0)).toThrow(/unknown environment "prod"/);
  });
});

describe('reservations', () => {
  const plan = (reservations: Reservation[]) =>
    planFleet(fleet(reservations), window('2026-06-06T00:00Z', '2026-06-07T00:00Z'))
      .get('demo')!
      .plan()
      .transitions.map((t) => `${new Date(t.at).toISOString().slice(11, 16)} ${t.state}`);

  it('that overlap are a union, never a conflict', () => {
    expect(
      plan([
        reservation('demo', '2026-06-06T09:00Z', '2026-06-06T12:00Z'),
        reservation('demo', '2026-06-06T11:00Z', '2026-06-06T14:00Z'),
      ]),
    ).toEqual(['09:00 on', '14:00 off']);
  });

  it('that touch join without a stop in between', () => {
    expect(
      plan([
        reservation('demo', '2026-06-06T09:00Z', '2026-06-06T12:00Z'),
        reservation('demo', '2026-06-06T12:00Z', '2026-06-06T14:00Z'),
      ]),
    ).toEqual(['09:00 on', '14:00 off']);
  });

  it('that nest keep the outer window', () => {
    expect(
      plan([
        reservation('demo', '2026-06-06T09:00Z', '2026-06-06T18:00Z'),
        reservation('demo', '2026-06-06T10:00Z', '2026-06-06T11:00Z'),
      ]),
    ).toEqual(['09:00 on', '18:00 off']);
  });

  it('that are apart keep their own windows', () => {
    expect(
      plan([
        reservation('demo', '2026-06-06T09:00Z', '2026-06-06T10:00Z'),
        reservation('demo', '2026-06-06T11:00Z', '2026-06-06T12:00Z'),
      ]),
    ).toEqual(['09:00 on', '10:00 off', '11:00 on', '12:00 off']);
  });

  it('of another environment do not apply', () => {
    expect(plan([reservation('dev', '2026-06-06T09:00Z', '2026-06-06T10:00Z')])).toEqual([]);
  });
});

describe('plans', () => {
  it('give the state at the window start and only real changes inside the window', () => {
    const plan = planFleet(
      fleet([reservation('dev', '2026-06-01T18:00Z', '2026-06-01T20:00Z')]),
      window(MONDAY_NOON, '2026-06-02T12:00Z'),
    )
      .get('dev')!
      .plan();
    expect(plan.initial).toBe('on');
    expect(plan.transitions).toEqual([
      { at: at('2026-06-01T20:00Z'), state: 'off' }, // the reservation extends office hours, no stop at 18:00
      { at: at('2026-06-02T08:00Z'), state: 'on' },
    ]);
  });

  it('show a change exactly at the window start as the initial state', () => {
    const plan = planFleet(fleet(), window('2026-06-01T08:00Z', '2026-06-01T12:00Z'))
      .get('dev')!
      .plan();
    expect(plan).toMatchObject({ initial: 'on', transitions: [] });
  });

  it('leave out a change exactly at the window end (the window is half-open)', () => {
    const plan = planFleet(fleet(), window('2026-06-01T07:00Z', '2026-06-01T18:00Z'))
      .get('dev')!
      .plan();
    expect(plan.transitions).toEqual([{ at: at('2026-06-01T08:00Z'), state: 'on' }]);
  });

  it('refuse a state query outside the planned window', () => {
    const timeline = environmentTimeline(window(MONDAY_NOON, MONDAY_NIGHT), []);
    expect(() => timeline.stateAt(at(MONDAY_NIGHT))).toThrow(/outside the planned window/);
  });
});

describe('resources reserved alone', () => {
  const alone = (resource: string, from: string, to: string): Reservation => ({
    ...reservation('dev', from, to),
    resource,
  });
  const day = window('2026-06-01T00:00Z', '2026-06-02T00:00Z');

  it('do not turn the environment on, only themselves', () => {
    const timeline = planFleet(
      fleet([alone('vm-1', '2026-06-01T19:00Z', '2026-06-01T21:00Z')]),
      day,
    ).get('dev')!;
    expect(timeline.stateAt(at('2026-06-01T20:00Z'))).toBe('off');
    expect(timeline.keptOnAt(at('2026-06-01T20:00Z'))).toEqual(['vm-1']);
    expect(timeline.onOf('vm-1')).toEqual([
      { start: at('2026-06-01T08:00Z'), end: at('2026-06-01T18:00Z') },
      { start: at('2026-06-01T19:00Z'), end: at('2026-06-01T21:00Z') },
    ]);
    expect(timeline.onOf('vm-2')).toBe(timeline.on);
    expect(timeline.resourceTransitions()).toEqual([
      { at: at('2026-06-01T19:00Z'), state: 'on', resources: ['vm-1'] },
      { at: at('2026-06-01T21:00Z'), state: 'off', resources: ['vm-1'] },
    ]);
  });

  it('stay on past the environment stop while reserved, and merge their overlapping requests', () => {
    const timeline = planFleet(
      fleet([
        alone('vm-1', '2026-06-01T17:00Z', '2026-06-01T19:00Z'),
        alone('vm-1', '2026-06-01T18:30Z', '2026-06-01T20:00Z'),
      ]),
      day,
    ).get('dev')!;
    expect(timeline.keptOnAt(at('2026-06-01T18:00Z'))).toEqual(['vm-1']);
    expect(timeline.resourceTransitions()).toEqual([
      { at: at('2026-06-01T20:00Z'), state: 'off', resources: ['vm-1'] },
    ]);
  });

  it('group resources that change at the same instant, and leave out changes the environment makes', () => {
    const timeline = planFleet(
      fleet([
        alone('vm-1', '2026-06-01T06:00Z', '2026-06-01T09:00Z'),
        alone('vm-2', '2026-06-01T06:00Z', '2026-06-01T07:00Z'),
        alone('vm-3', '2026-06-01T16:00Z', '2026-06-01T18:00Z'),
      ]),
      day,
    ).get('dev')!;
    expect(timeline.resourceTransitions()).toEqual([
      { at: at('2026-06-01T06:00Z'), state: 'on', resources: ['vm-1', 'vm-2'] },
      { at: at('2026-06-01T07:00Z'), state: 'off', resources: ['vm-2'] },
    ]);
  });

  it('give way to a hold that keeps the environment off', () => {
    const timeline = planFleet(
      fleet(
        [alone('vm-1', '2026-06-01T19:00Z', '2026-06-01T21:00Z')],
        [hold('dev', 'off', '2026-06-01T20:00Z', '2026-06-01T18:00Z')],
      ),
      day,
    ).get('dev')!;
    expect(timeline.keptOnAt(at('2026-06-01T19:30Z'))).toEqual([]);
    expect(timeline.keptOnAt(at('2026-06-01T20:30Z'))).toEqual(['vm-1']);
  });
});
