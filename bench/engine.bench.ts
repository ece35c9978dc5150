/**
 * The engine's benchmarks (part of `npm run bench`), targets from issue #4:
 * - 10,000 sandbox resources in 100 environments, 20 ms simulated API latency:
 *   a stop of all in under 5 s, with the provider calls made next to the minimum
 *   the batching rules allow;
 * - 100 and 1,000 environments whose transition falls on the same instant, grace 0:
 *   lag from the instant to the first action, p50 and p99 (target p99 under 1 s;
 *   issue 16 for 1,000). Alone: `npx tsx bench/engine.bench.ts lag 1000` (on
 *   PostgreSQL too when LIGHTSOUT_BENCH_POSTGRES is set);
 * - peak RSS of `lightsout serve` with 10,000 sandbox resources: under 250 MB.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from '../src/core/glossary.js';
import { SystemClock } from '../src/engine/clock.js';
import { COMMIT_AHEAD_MS } from '../src/engine/context.js';
import { Engine } from '../src/engine/engine.js';
import type { Notifier } from '../src/engine/ports.js';
import { SandboxProvider } from '../src/providers/sandbox/sandbox.js';
import type { SandboxSeed } from '../src/providers/sandbox/sandbox.js';
import { openStore } from '../src/store/store.js';
import { passBenchmarks } from './pass.bench.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const silent: Notifier = { send: () => Promise.resolve() };

/** Per environment: 70 EC2 instances, 10 each of ASG, RDS and ECS. */
const MIX = { ec2: 70, asg: 10, rds: 10, ecs: 10 } as const;
const BATCH = { ec2: 50, asg: 1, rds: 1, ecs: 1 } as const;

function fleet(environmentCount: number, mix: Partial<Record<keyof typeof MIX, number>>) {
  const environments: Environment[] = [];
  const seeds: SandboxSeed[] = [];
  for (let e = 0; e < environmentCount; e++) {
    const env = `env-${e}`;
    environments.push({
      name: env,
      timezone: 'UTC',
      graceMs: 0,
      tiers: [
        { name: 'data', select: [{ provider: 'sandbox', kinds: ['rds'], tags: { env } }] },
        {
          name: 'apps',
          select: [{ provider: 'sandbox', kinds: ['ec2', 'asg', 'ecs'], tags: { env } }],
        },
      ],
    });
    for (const [kind, count] of Object.entries(mix) as [keyof typeof MIX, number][]) {
      for (let i = 0; i < count; i++)
        seeds.push({ kind, name: `${env}-${kind}-${i}`, tags: { env } });
    }
  }
  return { environments, seeds };
}

export async function stopAll(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-bench-'));
  const store = await openStore(`sqlite:${join(dir, 'bench.db')}`);
  const clock = new SystemClock();
  const sandbox = new SandboxProvider(store.db, clock, {
    latencyMs: 20,
    settleScale: 0.001,
    concurrency: 64,
  });
  const { environments, seeds } = fleet(100, MIX);
  await sandbox.seed(seeds);
  const engine = new Engine({
    store,
    providers: new Map([['sandbox', sandbox]]),
    clock,
    notifier: silent,
    log: quiet,
    schedules: new Map(),
    environments,
    concurrency: 100,
    pollMs: 100,
  });
  for (const e of environments) await engine.command(e.name, 'stop', 'bench', 0);
  sandbox.calls.act = sandbox.calls.observe = sandbox.calls.discover = 0;
  const started = performance.now();
  await engine.tick();
  await engine.idle();
  const seconds = (performance.now() - started) / 1000;
  const runs = await store.listRuns({ limit: 1000 });
  const succeeded = runs.filter((r) => r.status === 'succeeded').length;
  await store.close();
  const minimumAct =
    environments.length *
    Object.entries(MIX).reduce(
      (n, [kind, count]) => n + Math.ceil(count / BATCH[kind as keyof typeof BATCH]),
      0,
    );
  const minimumObserve = environments.length * 2; // one poll per tier, ids fit in one call
  const minimumDiscover = environments.length * 2; // one per selector
  return [
    `| stop 10,000 sandbox resources in 100 environments (2 tiers, 20 ms latency per call, 64 calls in flight) | ${seconds.toFixed(2)} s, ${succeeded}/100 runs succeeded | < 5 s |`,
    `| provider calls for that stop: act / observe / discover | ${sandbox.calls.act} / ${sandbox.calls.observe} / ${sandbox.calls.discover} (minimum ${minimumAct} / ${minimumObserve} / ${minimumDiscover}) | — |`,
  ];
}

/** A fresh store for a benchmark: a SQLite file, or a schema of its own on `postgres`. */
function benchStore(postgres?: string) {
  if (postgres === undefined)
    return openStore(`sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-bench-')), 'bench.db')}`);
  return openStore(`${postgres}${postgres.includes('?') ? '&' : '?'}schema=bench_${Date.now()}`);
}

export async function transitionLag(count = 100, postgres?: string): Promise<string[]> {
  const store = await benchStore(postgres);
  const clock = new SystemClock();
  const sandbox = new SandboxProvider(store.db, clock, { settleScale: 0.001 });
  const { environments, seeds } = fleet(count, { ec2: 1 });
  await sandbox.seed(seeds);
  // Far enough ahead that setting up and adopting are done before the pass that
  // commits the stops, COMMIT_AHEAD_MS before the instant.
  const instant = clock.now() + COMMIT_AHEAD_MS + 2_000 + count * 5;
  await store.syncConfig(
    {
      environments: [],
      reservations: environments.map((e) => ({
        environment: e.name,
        from: instant - 60_000,
        to: instant,
      })),
      holds: [],
    },
    clock.now(),
  );
  const engine = new Engine({
    store,
    providers: new Map([['sandbox', sandbox]]),
    clock,
    notifier: silent,
    log: quiet,
    schedules: new Map(),
    environments,
    concurrency: Math.max(100, count),
    pollMs: 100,
  });
  // The serve loop: pass, sleep until the next wake, pass again.
  while (clock.now() < instant + 3_000) {
    const next = await engine.tick();
    await clock.sleep(Math.max(0, Math.min(next, instant + 3_000) - clock.now()));
  }
  await engine.idle();
  const lags: number[] = [];
  for (const run of await store.listRuns({ limit: 2 * count })) {
    if (run.direction !== 'stop' || run.due_at !== instant) continue;
    const first = Math.min(...(await store.listSteps(run.id)).map((s) => s.started_at ?? Infinity));
    lags.push(first - instant);
  }
  await store.close();
  lags.sort((a, b) => a - b);
  const pct = (p: number) =>
    lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))] ?? NaN;
  const database = postgres === undefined ? '' : ', PostgreSQL';
  return [
    `| lag from a shared transition instant to the first action, ${count.toLocaleString('en-US')} environments, grace 0${database} | p50 ${pct(50)} ms, p99 ${pct(99)} ms (${lags.length} runs) | p99 < 1,000 ms |`,
  ];
}

export async function serveMemory(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-bench-'));
  const config = join(dir, 'lightsout.yaml');
  const { environments, seeds } = fleet(100, MIX);
  const yaml = [
    'timezone: UTC',
    'environments:',
    ...environments.map(
      (e) =>
        `  ${e.name}:\n    grace: 0\n    tiers:\n      - { name: data, select: { provider: sandbox, kinds: [rds], tags: { env: ${e.name} } } }\n      - { name: apps, select: { provider: sandbox, kinds: [ec2, asg, ecs], tags: { env: ${e.name} } } }`,
    ),
    // On when lightsout first sees them (adopted as they are), held on for ten
    // simulated minutes (six real seconds at --speed 100), then all stopped together.
    'holds:',
    ...environments.map(
      (e) =>
        `  - { environment: ${e.name}, state: on, until: "${new Date(Date.now() + 600_000).toISOString()}" }`,
    ),
    'sandbox:',
    '  latency: 20ms',
    '  resources:',
    ...seeds.map(
      (s) => `    - { kind: ${s.kind}, name: ${s.name}, tags: { env: ${s.tags!.env!} } }`,
    ),
  ].join('\n');
  writeFileSync(config, yaml);
  const db = `sqlite:${join(dir, 'serve.db')}`;
  // No schedule: once the holds end, every environment's desired state is off and all 10,000 resources stop.
  const child = spawn(
    process.execPath,
    ['dist/cli/main.js', 'serve', '--config', config, '--db', db, '--port', '0', '--speed', '100'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const store = await openStore(db);
  const deadline = Date.now() + 120_000;
  let finished = 0;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    finished = (await store.listRuns({ limit: 1000 })).filter(
      (r) => r.status === 'succeeded' || r.status === 'failed',
    ).length;
    if (finished >= 100) break;
  }
  const status = readFileSync(`/proc/${child.pid!}/status`, 'utf8');
  const peakKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  child.kill('SIGTERM');
  await store.close();
  return [
    `| peak RSS of \`lightsout serve\` stopping 10,000 sandbox resources in 100 environments (VmHWM) | ${(peakKb / 1024).toFixed(0)} MB, ${finished}/100 runs finished | < 250 MB |`,
  ];
}

const benchPostgres = process.env.LIGHTSOUT_BENCH_POSTGRES || undefined;

/** Measures the engine; returns its section of BENCHMARKS.md. */
export async function engineBenchmarks(): Promise<string[]> {
  const rows = [
    ...(await stopAll()),
    ...(await transitionLag()),
    ...(await transitionLag(1000)),
    ...(benchPostgres === undefined ? [] : await transitionLag(1000, benchPostgres)),
    ...(await serveMemory()),
    ...(await passBenchmarks()),
  ];
  return [
    '## Engine (issues #4 and 16)',
    '',
    '| measure | result | target |',
    '| --- | --- | --- |',
    ...rows,
    '',
    'The sandbox provider sleeps 20 ms per call and batches like AWS: up to 50 EC2',
    'instances per call, one ASG, RDS database or ECS service per call. Settle delays',
    'are scaled down (×0.001) so the figure measures lightsout, not simulated AWS.',
    'Lag is measured with the real clock and the serve loop; RSS from /proc on Linux.',
  ];
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === 'lag') {
  const count = Number(process.argv[3] ?? 1000);
  const rows = [
    ...(await transitionLag(count)),
    ...(benchPostgres === undefined ? [] : await transitionLag(count, benchPostgres)),
  ];
  process.stdout.write(`${rows.join('\n')}\n`);
}
