/**
 * Planning throughput of the schedule core (part of `npm run bench`).
 *
 * Targets (issue #3): transitions for 10,000 environments over one year in under
 * 2 s, and at least 1,000,000 desired-state evaluations per second.
 */
import { Bench } from 'tinybench';
import type { Environment, Hold, Interval, Reservation, Schedule } from '../src/core/glossary.js';
import type { Fleet } from '../src/core/planner.js';
import { planFleet } from '../src/core/planner.js';
import { periodSchedule, expressionSchedule } from '../test/core/build.js';

const DAY = 86_400_000;
/** A different year for every run, so no run reuses firings cached by an earlier one. */
let nextYear = 2027;
function freshYear(): Interval {
  const year = nextYear++;
  return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) };
}
const ZONES = [
  'Europe/Paris',
  'America/New_York',
  'America/Los_Angeles',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Asia/Tokyo',
  'Europe/London',
  'UTC',
];

/** A mix of every kind of schedule: periods, cross-midnight periods, 5-field cron, EventBridge, holidays. */
function makeSchedule(index: number): Schedule {
  const zone = ZONES[index % ZONES.length]!;
  // Distinct start times for the first 1,440 schedules, so no two share a cron pattern.
  const hour = (6 + Math.floor(index / 60)) % 24;
  const minute = index % 60;
  const clock = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  const kinds: (() => Schedule)[] = [
    () => periodSchedule(zone, [{ days: 'mon-fri', start: clock, stop: '19:00' }]),
    () =>
      periodSchedule(zone, [
        { days: 'mon-fri', start: '22:00', stop: '02:00' },
        { days: 'sat', start: '10:00', stop: '14:00' },
      ]),
    () =>
      expressionSchedule(zone, `${minute} ${hour} * * 1-5`, '30 19 * * 1-5', { holidays: ['FR'] }),
    () =>
      expressionSchedule(zone, `cron(${minute} ${hour} ? * MON-FRI *)`, 'cron(0 20 ? * MON-FRI *)'),
    () =>
      periodSchedule(zone, [{ days: 'mon-fri', start: clock, stop: '18:30' }], {
        holidays: ['US'],
        dates: ['2027-12-24'],
      }),
  ];
  return { ...kinds[index % kinds.length]!(), name: `schedule-${index}` };
}

function makeFleet(environmentCount: number, scheduleCount: number, year: Interval): Fleet {
  const schedules = new Map<string, Schedule>();
  for (let i = 0; i < scheduleCount; i++) schedules.set(`schedule-${i}`, makeSchedule(i));
  const environments: Environment[] = [];
  const reservations: Reservation[] = [];
  const holds: Hold[] = [];
  for (let i = 0; i < environmentCount; i++) {
    const name = `env-${i}`;
    const schedule = schedules.get(`schedule-${i % scheduleCount}`)!;
    environments.push({ name, timezone: schedule.timezone, schedule: schedule.name });
    const day = year.start + (i % 360) * DAY;
    reservations.push({ environment: name, from: day + 20 * 3_600_000, to: day + 23 * 3_600_000 });
    reservations.push({ environment: name, from: day + 22 * 3_600_000, to: day + 26 * 3_600_000 });
    holds.push({ environment: name, state: 'off', from: day + 30 * DAY, until: day + 37 * DAY });
  }
  return { schedules, environments, reservations, holds };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeIt(runs: number, prepare: () => () => number): { ms: number; result: number } {
  const times: number[] = [];
  let result = 0;
  for (let i = 0; i < runs; i++) {
    const work = prepare();
    const started = performance.now();
    result = work();
    times.push(performance.now() - started);
  }
  return { ms: median(times), result };
}

/** Plans a fresh fleet over a fresh year; builds the fleet outside the timed part. */
const countTransitions = (environments: number, schedules: number) => {
  const year = freshYear();
  const fleet = makeFleet(environments, schedules, year);
  return () => {
    let transitions = 0;
    for (const timeline of planFleet(fleet, year).values())
      transitions += timeline.plan().transitions.length;
    return transitions;
  };
};

/** Measures the schedule core; returns its section of BENCHMARKS.md. */
export async function planBenchmarks(): Promise<string[]> {
  // 1. 10,000 environments sharing 200 schedules, each with its own reservations and hold.
  const shared = timeIt(5, () => countTransitions(10_000, 200));
  // 2. Every environment with a schedule of its own: the cost of one schedule-year.
  const distinct = timeIt(3, () => countTransitions(1_000, 1_000));

  // 3. Desired-state evaluations against planned timelines.
  const evaluationYear = freshYear();
  const timelines = [...planFleet(makeFleet(1_000, 200, evaluationYear), evaluationYear).values()];
  const span = evaluationYear.end - evaluationYear.start;
  const instants = Float64Array.from(
    { length: 65_536 },
    (_, i) => evaluationYear.start + ((i * 7_919_993_113) % span),
  );
  const bench = new Bench({ time: 2_000 });
  let k = 0;
  let sink = 0;
  bench.add('stateAt', () => {
    const timeline = timelines[k % timelines.length]!;
    if (timeline.stateAt(instants[k & 65_535]!) === 'on') sink++;
    k++;
  });
  await bench.run();
  const task = bench.tasks[0]!;
  const evaluationsPerSecond =
    task.result.state === 'completed' ? task.result.throughput.mean : NaN;
  if (sink < 0) process.stdout.write('unreachable\n');
  return [
    '## Schedule core (issue #3)',
    '',
    '| measure | result | target |',
    '| --- | --- | --- |',
    `| transitions of 10,000 environments over one year (200 shared schedules of 5 kinds in 8 zones, 2 reservations and 1 hold each; cold caches; median of 5) | ${shared.ms.toFixed(0)} ms, ${shared.result.toLocaleString('en')} transitions | < 2,000 ms |`,
    `| transitions of 1,000 environments with a schedule each over one year (cold caches; median of 3) | ${distinct.ms.toFixed(0)} ms (${(distinct.ms / 1_000).toFixed(2)} ms per schedule-year) | — |`,
    `| desired-state evaluations against planned timelines (tinybench, 2 s) | ${Math.round(evaluationsPerSecond).toLocaleString('en')} per second | ≥ 1,000,000 per second |`,
    '',
    'Schedules are evaluated once per window however many environments share them, so the',
    'first figure grows with the number of environments and of distinct schedules; the second',
    'row gives the cost of each distinct schedule. Evaluations are answered by binary search',
    'over a planned timeline, as the reconciler does between transitions.',
    '',
  ];
}
