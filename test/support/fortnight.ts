/**
 * A recorded fortnight of one environment's power events, with the hours worked out
 * by hand in test/core/savings.test.ts: a stop that failed for one resource, a
 * reservation in the middle of the night, the weekend the clocks change in Paris,
 * a machine started by hand while off.
 */
import type { SavingsEvent } from '../../src/core/savings.js';

export const WEB = 'aws:ec2:eu-west-3:123456789012:i-0web';
export const DB = 'aws:rds:eu-west-3:123456789012:db';
export const BOX = 'command:build-box';
export const at = (iso: string) => Date.parse(iso);

export function run(iso: string, direction: 'start' | 'stop', statuses: Record<string, string>) {
  return {
    at: at(iso),
    kind: 'run.finished',
    environment: 'dev',
    payload: {
      direction,
      outcome: Object.values(statuses).includes('failed') ? 'failed' : 'succeeded',
      resources: Object.entries(statuses).map(([resource, status]) => ({ resource, status })),
    },
  } satisfies SavingsEvent;
}
const all = (status: string) => ({ [WEB]: status, [DB]: status, [BOX]: status });

/** Monday 23 March to Monday 6 April 2026 (UTC); Paris moves to summer time on the 29th. */
export const window = { start: at('2026-03-23T00:00Z'), end: at('2026-04-06T00:00Z') };
export const fortnight: SavingsEvent[] = [
  // Monday evening to Tuesday morning: 13 h off for all three.
  run('2026-03-23T18:00Z', 'stop', all('done')),
  run('2026-03-24T07:00Z', 'start', all('done')),
  // Tuesday evening: the database refused to stop; it stays on.
  run('2026-03-24T18:00Z', 'stop', { [WEB]: 'done', [DB]: 'failed', [BOX]: 'done' }),
  // A reservation from 02:00 to 04:00 in the night (the database was still on).
  run('2026-03-25T02:00Z', 'start', { [WEB]: 'done', [DB]: 'already', [BOX]: 'done' }),
  run('2026-03-25T04:00Z', 'stop', all('done')),
  run('2026-03-25T07:00Z', 'start', all('done')),
  // The weekend of the clock change: Friday 19:00 CET to Monday 08:00 CEST is 60 h...
  run('2026-03-27T18:00Z', 'stop', all('done')),
  // ...but someone started the web server by hand on Saturday at 10:00 UTC.
  {
    at: at('2026-03-28T10:00Z'),
    kind: 'drift.detected',
    environment: 'dev',
    payload: { desired: 'off', resources: [WEB] },
  },
  run('2026-03-30T06:00Z', 'start', { [WEB]: 'already', [DB]: 'done', [BOX]: 'done' }),
  // Monday night: 13 h.
  run('2026-03-30T17:00Z', 'stop', all('done')),
  run('2026-03-31T06:00Z', 'start', all('done')),
  // Off from Tuesday 31 March 17:00 to the end of the window: 5 days 7 hours, 127 h.
  run('2026-03-31T17:00Z', 'stop', all('done')),
  // Not power: ignored.
  { at: at('2026-03-26T09:00Z'), kind: 'hold.created', environment: 'dev', payload: {} },
];
