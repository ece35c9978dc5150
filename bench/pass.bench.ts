/**
 * The reconciler pass at scale (issue 16, "a pass that stays flat"): 10,000
 * environments on one office-hours schedule with 100,000 resources in the
 * inventory (SQLite), every environment adopted. Then passes at moments when
 * nothing is due: their time, and the process's RSS; and what planning costs a
 * pass, every environment planned again or kept from the last pass (PlanCache).
 * Also `npx tsx bench/pass.bench.ts` alone (ENVIRONMENTS=10000 RESOURCES=10).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from '../src/core/glossary.js';
import { VirtualClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { PLAN_AHEAD_MS, PlanCache } from '../src/engine/plan-cache.js';
import { planFleet } from '../src/core/planner.js';
import type { Notifier } from '../src/engine/ports.js';
import { SandboxProvider } from '../src/providers/sandbox/sandbox.js';
import { openStore } from '../src/store/store.js';
import { periodSchedule } from '../test/core/build.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const silent: Notifier = { send: () => Promise.resolve() };

export async function passBenchmarks(
  environmentCount = Number(process.env.ENVIRONMENTS ?? 10_000),
  resourcesEach = Number(process.env.RESOURCES ?? 10),
): Promise<string[]> {
  return [
    ...(await passes(environmentCount, resourcesEach, false)),
    ...(await passes(environmentCount, resourcesEach, true)),
  ];
}

/**
 * `readyBy`: the sandbox has a start bucket, so every environment's starts are
 * planned ready by their instant (src/engine/ready-by.ts), and the passes run at
 * 20:00, when every environment's next start (08:00) is within the 12-hour
 * horizon: each pass plans 12 hours ahead; the first reads every environment's
 * start costs from the inventory, the others keep them (no run changed it).
 */
async function passes(
  environmentCount: number,
  resourcesEach: number,
  readyBy: boolean,
): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-bench-pass-'));
  const store = await openStore(`sqlite:${join(dir, 'bench.db')}`);
  // Tuesday 1 December 2026, 10:00 UTC: office hours on, the next change at 18:00.
  const clock = new VirtualClock(
    Date.parse(readyBy ? '2026-12-01T20:00:00Z' : '2026-12-01T10:00:00Z'),
  );
  const schedule = {
    ...periodSchedule('UTC', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
    name: 'office-hours',
  };
  const environments: Environment[] = Array.from({ length: environmentCount }, (_, e) => ({
    name: `env-${e}`,
    timezone: 'UTC',
    schedule: 'office-hours',
    tiers: [{ name: 'all', select: [{ provider: 'sandbox', tags: { env: `env-${e}` } }] }],
  }));
  for (const e of environments)
    await store.upsertResources(
      e.name,
      Array.from({ length: resourcesEach }, (_, i) => ({
        id: `sandbox:ec2:${e.name}-${i}`,
        provider: 'sandbox',
        kind: 'ec2',
        name: `${e.name}-${i}`,
        tags: { env: e.name },
      })),
      clock.now(),
    );
  const engine = new Engine({
    store,
    providers: new Map([
      [
        'sandbox',
        new SandboxProvider(
          store.db,
          clock,
          readyBy ? { startBucket: { burst: 1_000, perSecond: 1_000 } } : {},
        ),
      ],
    ]),
    clock,
    notifier: silent,
    log: quiet,
    schedules: new Map([['office-hours', schedule]]),
    environments,
  });
  const adopting = performance.now();
  await engine.tick();
  const adoptMs = performance.now() - adopting;
  await engine.idle();
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    clock.advance(60_000);
    const started = performance.now();
    await engine.tick();
    times.push(performance.now() - started);
  }
  await engine.idle();
  const planning = readyBy ? undefined : await planningTimes(engine, environments, clock.now());
  const runs = (await store.listRuns({ limit: 10 })).length;
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  await store.close();
  times.sort((a, b) => a - b);
  const resources = environmentCount * resourcesEach;
  const scale = `${environmentCount.toLocaleString('en-US')} environments and ${resources.toLocaleString('en-US')} resources`;
  if (readyBy)
    return [
      `| the same at 20:00 with every start planned ready by its instant (${scale}, 12 h planned ahead; the start costs read from the inventory by the first pass, then kept until a run changes it) | ${times[5]!.toFixed(0)} ms (max ${times.at(-1)!.toFixed(0)} ms); ${runs} runs made | < 200 ms |`,
    ];
  return [
    `| a pass with nothing due, ${scale} (median of 10; SQLite) | ${times[5]!.toFixed(0)} ms (max ${times.at(-1)!.toFixed(0)} ms); ${runs} runs made | < 200 ms |`,
    `| the first pass, adopting every environment | ${adoptMs.toFixed(0)} ms | — |`,
    `| planning those environments for a pass: all planned again / kept from the last pass (median of 10) | ${planning!.fresh.toFixed(1)} ms / ${planning!.kept.toFixed(1)} ms | — |`,
    `| RSS of the process after those passes | ${rssMb.toFixed(0)} MB | < 400 MB |`,
  ];
}

/**
 * Planning alone, for passes a minute apart: planFleet of every environment (as
 * each pass did before), and the plan cache a pass keeps (src/engine/plan-cache.ts).
 */
async function planningTimes(engine: Engine, environments: readonly Environment[], now: number) {
  // The pass's window at the default grace (15 min) and safety tick (30 s).
  const windowAt = (t: number) => ({ start: t - 60_000, end: t + 15 * 60_000 + 30_000 + 1 });
  const fleet = await engine.fleetFor(
    environments,
    now,
    windowAt(now).end + 11 * 60_000 + PLAN_AHEAD_MS,
  );
  const cache = new PlanCache();
  cache.timelines(fleet, windowAt(now));
  const median = (work: (t: number) => void) => {
    const times: number[] = [];
    for (let i = 1; i <= 10; i++) {
      const started = performance.now();
      work(now + i * 60_000);
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b)[5]!;
  };
  const planned = (timelines: Map<string, { plan(): unknown }>) => {
    for (const timeline of timelines.values()) timeline.plan();
  };
  return {
    fresh: median((t) => {
      planned(planFleet(fleet, windowAt(t)));
    }),
    kept: median((t) => {
      planned(cache.timelines(fleet, windowAt(t)));
    }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log((await passBenchmarks()).join('\n'));
