/**
 * `npm run chaos` (issue 11): `lightsout serve` as real processes, killed with
 * SIGKILL at random moments, then counted from the store. Not part of
 * `npm run bench`; `--write` puts its figures in BENCHMARKS.md as a section of its own.
 *
 *   npx tsx bench/chaos.ts [--kills 20] [--replicas 3] [--db sqlite|postgres|both]
 *                          [--seed 1] [--speed 60] [--postgres URL] [--write] [--keep]
 *
 * A busy sandbox fleet (20 environments × 5 resources in 3 tiers) on cron
 * schedules that switch every 3 to 10 simulated minutes, grace 0 to 2 minutes,
 * served with `--speed 60` and a sandbox latency, so that runs are in grace, acting
 * and verifying at every kill. From `stormEnd` on, holds in the config pin each
 * environment on or off: the plan stops changing, and the fleet must go quiet.
 *
 * - Scenario A, crash storm: one `serve`, killed `--kills` times and restarted with
 *   the same --replica-id (twice with a new one, so a lease is taken over when it
 *   expires), on a fresh SQLite file and/or a fresh PostgreSQL schema.
 * - Scenario B, racing replicas: `--replicas` processes on one PostgreSQL schema,
 *   each with its own --replica-id, killed at random and restarted (twice with a
 *   new id).
 *
 * An observer polls the store every 100 ms (run_steps with their run's lease epoch,
 * sandbox_resources) and, right after each kill, records the steps the killed
 * process had started without recording their outcome (in flight). Afterwards:
 *
 * Repeated actions (each must be 0):
 * - a step attempted again after its outcome was recorded (acted, already, done,
 *   failed, skipped);
 * - a provider act the sandbox accepted (a resource seen turning on or off) that no
 *   step recorded as accepted and no step in flight at a kill explains;
 * - two runs with the same (environment, target, seq);
 * - a run with two `run.finished` events;
 * - two runs of one environment acting at once (seen by the observer).
 * A step re-attempted after a kill while its outcome was not recorded is the
 * documented at-least-once window (the attempt is on record before the call): it
 * is counted apart, as "re-attempted after a kill", and is not a repeat.
 *
 * Lost actions (each must be 0), once quiet (the plan unchanged for longer than
 * grace + the slowest settle, every target converged for 3 s, or a timeout):
 * - an environment whose applied state is not the plan's desired state now;
 * - a sandbox resource not in its environment's desired state now;
 * - a run still open (grace or acting) with act_at in the past;
 * - a transition neglected: a pass (each value of last_pass_at the observer saw)
 *   that found the plan wanting a state other than the applied state (rebuilt from
 *   the runs' seq and the supersessions that gave it back), no run of the
 *   environment open, and created none before the next pass (a stop counts only
 *   while the plan still wants it `grace` later); consecutive passes count once.
 *
 * Deterministic from --seed: the config, the lifetimes, victims and restart delays.
 * The interleavings of real processes are not; a finding is reported with the seed,
 * the command, the work directory (kept) and the rows that show it.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { readFileSync, symlinkSync } from 'node:fs';
import { writeFileSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { loadConfigFile } from '../src/config/load.js';
import type { LoadedConfig } from '../src/config/load.js';
import type { Instant } from '../src/core/glossary.js';
import type { Fleet, Timeline } from '../src/core/planner.js';
import { planFleet } from '../src/core/planner.js';
import { connect } from '../src/store/db.js';
import type { Connection } from '../src/store/db.js';
import { activePlans } from '../src/store/queries/plans.js';
import type { RunRow } from '../src/store/schema.js';

const MINUTE = 60_000;
const SECTION = '## Crash storm and racing replicas (issue 11)';
const DEFAULT_POSTGRES = 'postgres://lightsout:lightsout@127.0.0.1:5432/lightsout_test';
/** Schedules: start and stop cron expressions, switching every few simulated minutes. */
const SCHEDULES: Record<string, readonly [string, string]> = {
  'flip-3m': ['*/6 * * * *', '3-59/6 * * * *'],
  'flip-4m': ['*/8 * * * *', '4-59/8 * * * *'],
  'flip-5m': ['*/10 * * * *', '5-59/10 * * * *'],
  'on-7m-off-8m': ['1-59/15 * * * *', '8-59/15 * * * *'],
  'on-12m-off-8m': ['*/20 * * * *', '12-59/20 * * * *'],
};
const GRACES = ['0', '30s', '1m', '2m'] as const;
const ENVIRONMENTS = 20;
/** Simulated sandbox latency per call: 83 ms of real time at 60x, so calls are in flight at kills. */
const LATENCY = '5s';
/** The slowest sandbox settle (an RDS start, 5 min) plus a margin, simulated. */
const SLOWEST_SETTLE_MS = 6 * MINUTE;
const RECORDED = new Set(['acted', 'already', 'done', 'failed', 'skipped']);

// ---------------------------------------------------------------------------------------------
// Options and the seeded random source

interface Options {
  readonly kills: number;
  readonly replicas: number;
  readonly db: 'sqlite' | 'postgres' | 'both';
  readonly seed: number;
  readonly speed: number;
  readonly postgres: string;
  readonly write: boolean;
  readonly keep: boolean;
  /** Seconds of storm (default: as long as the kill plan takes); with --kills 0, a storm without kills. */
  readonly storm: number | undefined;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      kills: { type: 'string', default: '20' },
      replicas: { type: 'string', default: '3' },
      db: { type: 'string', default: 'both' },
      seed: { type: 'string', default: '1' },
      speed: { type: 'string', default: '60' },
      postgres: { type: 'string' },
      write: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      storm: { type: 'string' },
    },
  });
  const db = values.db;
  if (db !== 'sqlite' && db !== 'postgres' && db !== 'both')
    throw new Error(`--db "${db}": give sqlite, postgres or both`);
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min)
      throw new Error(`--${name} "${text}": give a whole number ≥ ${min}`);
    return n;
  };
  return {
    kills: int('kills', values.kills, 0),
    replicas: int('replicas', values.replicas, 1),
    db,
    seed: int('seed', values.seed, 0),
    speed: int('speed', values.speed, 1),
    postgres: values.postgres ?? process.env.LIGHTSOUT_TEST_POSTGRES ?? DEFAULT_POSTGRES,
    write: values.write,
    keep: values.keep,
    storm: values.storm === undefined ? undefined : int('storm', values.storm, 0),
  };
}

/** mulberry32: a small seeded generator, so a seed names one config and one kill plan. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const between = (rand: () => number, low: number, high: number) => low + rand() * (high - low);
const pick = <T>(rand: () => number, items: readonly T[]): T =>
  items[Math.floor(rand() * items.length)]!;
/** A string's 32-bit FNV-1a hash: each scenario's own stream of the seed. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const iso = (t: number) => new Date(t).toISOString();

// ---------------------------------------------------------------------------------------------
// The fleet

interface Workload {
  readonly file: string;
  /** When the holds pinning every environment begin (simulated). */
  readonly stormEnd: Instant;
  readonly maxGraceMs: number;
  readonly pins: ReadonlyMap<string, 'on' | 'off'>;
}

/** Writes the config: schedules, 20 environments of 5 sandbox resources, and the pins after stormEnd. */
function writeWorkload(dir: string, rand: () => number, stormEnd: Instant): Workload {
  const lines = ['version: 1', 'timezone: UTC', 'schedules:'];
  for (const [name, [start, stop]] of Object.entries(SCHEDULES))
    lines.push(`  ${name}:`, `    start: '${start}'`, `    stop: '${stop}'`);
  lines.push('environments:');
  const resources: string[] = [];
  const pins = new Map<string, 'on' | 'off'>();
  let maxGraceMs = 0;
  for (let i = 0; i < ENVIRONMENTS; i++) {
    const env = `e${String(i).padStart(2, '0')}`;
    const grace = pick(rand, GRACES);
    maxGraceMs = Math.max(
      maxGraceMs,
      { '0': 0, '30s': 30_000, '1m': MINUTE, '2m': 2 * MINUTE }[grace],
    );
    const select = (kinds: string) =>
      `{ provider: sandbox, kinds: [${kinds}], tags: { env: ${env} } }`;
    lines.push(
      `  ${env}:`,
      `    schedule: ${pick(rand, Object.keys(SCHEDULES))}`,
      `    grace: ${grace}`,
      '    tiers:',
      `      - { name: data, select: ${select('rds')} }`,
      `      - { name: apps, select: ${select('ec2, asg')} }`,
      `      - { name: front, select: ${select('ecs')} }`,
    );
    resources.push(
      `    - { kind: rds, name: ${env}-db, tags: { env: ${env} } }`,
      `    - { kind: ec2, name: ${env}-web-1, tags: { env: ${env} } }`,
      `    - { kind: ec2, name: ${env}-web-2, tags: { env: ${env} } }`,
      `    - { kind: asg, name: ${env}-workers, tags: { env: ${env} }, capacity: 3 }`,
      `    - { kind: ecs, name: ${env}-api, tags: { env: ${env} }, capacity: 2 }`,
    );
    pins.set(env, rand() < 0.5 ? 'on' : 'off');
  }
  lines.push('holds:');
  const from = iso(stormEnd).slice(0, 16) + 'Z';
  for (const [env, state] of pins)
    lines.push(
      `  - { environment: ${env}, state: ${state}, from: '${from}', until: '2999-01-01T00:00Z', note: 'chaos: the storm is over' }`,
    );
  lines.push('sandbox:', `  latency: ${LATENCY}`, '  resources:', ...resources, '');
  const file = join(dir, 'lightsout.yaml');
  writeFileSync(file, lines.join('\n'));
  return { file, stormEnd, maxGraceMs, pins };
}

/** The end of the storm, on a whole minute (the holds' `from`). */
function stormEndAfter(t0: Instant, simulatedMs: number): Instant {
  return Math.ceil((t0 + simulatedMs) / MINUTE) * MINUTE;
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Serve {
  readonly id: string;
  readonly child: ChildProcess;
  readonly log: string;
  readonly exited: Promise<unknown>;
  killed: boolean;
}

class Processes {
  started = 0;
  kills = 0;
  restarts = 0;
  newIds = 0;
  unexpectedExits: string[] = [];
  startFailures: string[] = [];
  readonly live = new Set<Serve>();
  readonly logs: string[] = [];

  constructor(
    private readonly dir: string,
    private readonly config: string,
    private readonly db: string,
    private readonly speed: number,
    private readonly label: string,
    /** The snapshot of dist/cli/main.js every process runs. */
    private readonly main: string,
  ) {}

  /** Spawns `lightsout serve`; resolves once it serves (or undefined when it died starting). */
  async start(id: string, waitServing = true): Promise<Serve | undefined> {
    this.started++;
    const log = join(
      this.dir,
      'logs',
      `${this.label}-${String(this.started).padStart(3, '0')}-${id}.log`,
    );
    const fd = openSync(log, 'a');
    const child = spawn(
      process.execPath,
      [
        this.main,
        'serve',
        '--config',
        this.config,
        '--db',
        this.db,
        '--speed',
        String(this.speed),
        '--replica-id',
        id,
        '--port',
        '0',
      ],
      { stdio: ['ignore', fd, fd], env: { ...process.env, LIGHTSOUT_LOG_LEVEL: 'info' } },
    );
    closeSync(fd);
    this.logs.push(log);
    const serve: Serve = { id, child, log, exited: once(child, 'exit'), killed: false };
    this.live.add(serve);
    void serve.exited.then(() => {
      this.live.delete(serve);
      if (!serve.killed)
        this.unexpectedExits.push(
          `${id}: exit ${String(child.exitCode ?? child.signalCode)} (${log})`,
        );
    });
    if (!waitServing) return serve;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      if (readFileSync(log, 'utf8').includes('"msg":"lightsout is serving"')) return serve;
      await sleep(25);
    }
    this.startFailures.push(`${id}: did not serve (${log})`);
    await this.kill(serve);
    return undefined;
  }

  async kill(serve: Serve): Promise<void> {
    if (serve.child.exitCode === null && serve.child.signalCode === null) {
      serve.killed = true;
      serve.child.kill('SIGKILL');
    }
    await serve.exited;
  }

  /** Lease-lost warnings and errors the processes logged, and the logs that hold the warnings. */
  logCounts(): { leaseLost: number; errors: number; files: string[] } {
    let leaseLost = 0;
    let errors = 0;
    const files: string[] = [];
    for (const log of this.logs) {
      const text = readFileSync(log, 'utf8');
      const lost = text.split('"msg":"another replica took this run over"').length - 1;
      if (lost > 0) files.push(log);
      leaseLost += lost;
      errors += text.split('"level":50,').length - 1;
    }
    return { leaseLost, errors, files };
  }

  /** SIGTERM every live process; SIGKILL those still there after 15 s. */
  async stopAll(): Promise<void> {
    const all = [...this.live];
    for (const s of all) {
      s.killed = true;
      s.child.kill('SIGTERM');
    }
    await Promise.race([Promise.all(all.map((s) => s.exited)), sleep(15_000)]);
    for (const s of all)
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(all.map((s) => s.exited));
  }
}

// ---------------------------------------------------------------------------------------------
// The observer

interface SeenStep {
  readonly runId: string;
  readonly resource: string;
  readonly status: string;
  readonly attempts: number;
  readonly epoch: number;
}

interface StepRow {
  id: number;
  run_id: string;
  resource: string;
  status: string;
  attempts: number;
  lease_epoch: number;
}

interface Finding {
  readonly kind: string;
  readonly text: string;
  readonly runs: readonly string[];
  readonly environment?: string;
}

class Observer {
  readonly steps = new Map<number, SeenStep>();
  readonly direction = new Map<string, 'up' | 'down'>();
  readonly accepted = new Map<string, number>();
  readonly inFlightAtKill = new Set<number>();
  /** Every value of last_pass_at seen: the instants of passes that completed. */
  readonly passes = new Set<number>();
  transientRetries = 0;
  reattemptsAfterKill = 0;
  reattemptsNotInFlight = 0;
  readonly repeated: Finding[] = [];
  readonly overlaps = new Map<string, Finding>();
  polls = 0;
  errors = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(readonly conn: Connection) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await this.poll(false).catch(() => {
          this.errors++;
        });
        await sleep(100);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.poll(true);
  }

  /** One look at the steps of open runs (of all runs when `all`) and at the sandbox. */
  async poll(all: boolean): Promise<void> {
    const db = this.conn.db;
    this.polls++;
    let query = db
      .selectFrom('run_steps as s')
      .innerJoin('runs as r', 'r.id', 's.run_id')
      .select(['s.id', 's.run_id', 's.resource', 's.status', 's.attempts', 'r.lease_epoch']);
    if (!all) query = query.where('r.status', 'in', ['grace', 'acting']);
    for (const row of (await query.execute()) as StepRow[]) this.see(row);
    const acting = await db
      .selectFrom('runs')
      .select(['id', 'environment'])
      .where('status', '=', 'acting')
      .execute();
    const byEnvironment = new Map<string, string[]>();
    for (const r of acting)
      byEnvironment.set(r.environment, [...(byEnvironment.get(r.environment) ?? []), r.id]);
    for (const [environment, ids] of byEnvironment)
      if (ids.length > 1) {
        const key = [...ids].sort().join(' ');
        if (!this.overlaps.has(key))
          this.overlaps.set(key, {
            kind: 'runs acting at once',
            text: `${environment}: runs ${ids.join(', ')} acting at the same time`,
            runs: ids,
            environment,
          });
      }
    const pass = await lastPass(this.conn);
    if (pass !== undefined) this.passes.add(pass);
    const sandbox = await db.selectFrom('sandbox_resources').select(['id', 'state']).execute();
    for (const { id, state } of sandbox) {
      const now = state === 'on' || state === 'starting' ? 'up' : 'down';
      const before = this.direction.get(id) ?? 'up'; // seeded on
      if (before !== now) this.accepted.set(id, (this.accepted.get(id) ?? 0) + 1);
      this.direction.set(id, now);
    }
  }

  private see(row: StepRow): void {
    const before = this.steps.get(row.id);
    const attempts = row.attempts;
    const epoch = row.lease_epoch;
    if (before === undefined) {
      if (attempts > 1) {
        if (this.inFlightAtKill.has(row.id)) this.reattemptsAfterKill++;
        else this.reattemptsNotInFlight++;
        this.transientRetries += attempts - 2;
      }
    } else if (attempts > before.attempts) {
      const more = attempts - before.attempts;
      if (RECORDED.has(before.status)) {
        this.repeated.push({
          kind: 'step attempted again after its outcome was recorded',
          text: `run ${row.run_id}, ${row.resource}: seen ${before.status} after ${before.attempts} attempt(s) (lease epoch ${before.epoch}), then ${row.status} after ${attempts} (epoch ${epoch})`,
          runs: [row.run_id],
        });
      } else if (epoch !== before.epoch) {
        if (this.inFlightAtKill.has(row.id)) this.reattemptsAfterKill++;
        else this.reattemptsNotInFlight++;
        this.transientRetries += more - 1;
      } else {
        this.transientRetries += more;
      }
    }
    this.steps.set(row.id, {
      runId: row.run_id,
      resource: row.resource,
      status: row.status,
      attempts,
      epoch,
    });
  }

  /** Right after a kill: the steps the dead process started and never recorded an outcome for. */
  async killed(owner: string): Promise<number> {
    const rows = await this.conn.db
      .selectFrom('run_steps as s')
      .innerJoin('runs as r', 'r.id', 's.run_id')
      .select('s.id')
      .where('r.status', 'in', ['grace', 'acting'])
      .where('r.lease_owner', '=', owner)
      .where('s.status', '=', 'pending')
      .where('s.attempts', '>', 0)
      .execute();
    for (const { id } of rows) this.inFlightAtKill.add(id);
    await this.poll(false);
    return rows.length;
  }
}

// ---------------------------------------------------------------------------------------------
// The plan and quiet

async function lastPass(conn: Connection): Promise<Instant | undefined> {
  const row = await conn.db
    .selectFrom('engine_state')
    .select('value')
    .where('key', '=', 'last_pass_at')
    .executeTakeFirst();
  return row === undefined ? undefined : row.value;
}

async function timelines(
  conn: Connection,
  config: LoadedConfig,
  from: Instant,
  until: Instant,
): Promise<Map<string, Timeline>> {
  const { reservations, holds } = await activePlans(conn.db, from, { until });
  const fleet: Fleet = {
    schedules: config.fleet.schedules,
    environments: config.fleet.environments,
    reservations,
    holds,
  };
  return planFleet(fleet, { start: from, end: until });
}

interface Difference {
  readonly environment: string;
  readonly text: string;
}

interface Convergence {
  readonly now: Instant;
  readonly environments: Difference[];
  readonly resources: Difference[];
  readonly open: (Difference & { readonly run: string })[];
}

/** What differs from the plan at the last pass's instant. */
async function convergence(
  conn: Connection,
  config: LoadedConfig,
): Promise<Convergence | undefined> {
  const now = await lastPass(conn);
  if (now === undefined) return undefined;
  const plan = await timelines(conn, config, now - 1, now + 1);
  const desired = (env: string) => plan.get(env)?.stateAt(now);
  const applied = new Map(
    (
      await conn.db.selectFrom('applied_states').selectAll().where('resource', '=', '').execute()
    ).map((a) => [a.environment, a.state]),
  );
  const environments = config.fleet.environments
    .map((e) => e.name)
    .filter((env) => applied.get(env) !== desired(env))
    .map((env) => ({
      environment: env,
      text: `${env}: applied ${applied.get(env) ?? 'none'}, plan ${desired(env) ?? '?'}`,
    }));
  const sandbox = await conn.db.selectFrom('sandbox_resources').selectAll().execute();
  const resources = sandbox
    .map((r) => {
      const environment = (JSON.parse(r.tags) as { env: string }).env;
      const settled = r.settles_at !== null && r.settles_at <= now;
      const state =
        r.state === 'starting' && settled
          ? 'on'
          : r.state === 'stopping' && settled
            ? 'off'
            : r.state;
      return { id: r.id, environment, state };
    })
    .filter((r) => r.state !== desired(r.environment))
    .map((r) => ({
      environment: r.environment,
      text: `${r.id}: ${r.state}, plan ${desired(r.environment) ?? '?'}`,
    }));
  const open = (
    await conn.db
      .selectFrom('runs')
      .select(['id', 'environment', 'status', 'act_at', 'lease_owner'])
      .where('status', 'in', ['grace', 'acting'])
      .execute()
  )
    .filter((r) => r.act_at <= now)
    .map((r) => ({
      environment: r.environment,
      run: r.id,
      text: `${r.environment}: run ${r.id} ${r.status} (lease ${r.lease_owner ?? 'none'})`,
    }));
  return { now, environments, resources, open };
}

/** Waits until the plan has not changed for longer than grace + settle and everything converged for 3 s. */
async function untilQuiet(
  conn: Connection,
  config: LoadedConfig,
  workload: Workload,
  timeoutMs: number,
): Promise<{ quiet: boolean; wallMs: number }> {
  const started = Date.now();
  let since: number | undefined;
  while (Date.now() - started < timeoutMs) {
    await sleep(500);
    const state = await convergence(conn, config).catch(() => undefined);
    if (
      state === undefined ||
      state.now < workload.stormEnd + workload.maxGraceMs + SLOWEST_SETTLE_MS
    ) {
      since = undefined;
      continue;
    }
    const ok = state.environments.length + state.resources.length + state.open.length === 0;
    if (!ok) {
      since = undefined;
      continue;
    }
    since ??= Date.now();
    if (Date.now() - since >= 3_000) return { quiet: true, wallMs: Date.now() - started };
  }
  return { quiet: false, wallMs: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Counting

interface Figures {
  scenario: string;
  processes: number;
  kills: number;
  restarts: number;
  newIds: number;
  unexpectedExits: number;
  startFailures: number;
  simulatedMinutes: number;
  runs: number;
  runsByStatus: Record<string, number>;
  steps: number;
  acceptedActs: number;
  inFlightAtKills: number;
  reattemptsAfterKill: number;
  reattemptsNotInFlight: number;
  transientRetries: number;
  repeated: number;
  repeatedAfterRecorded: number;
  unexplainedActs: number;
  actsNotSeen: number;
  duplicateSeq: number;
  finishedTwice: number;
  overlaps: number;
  lost: number;
  environmentsOff: number;
  resourcesOff: number;
  openRuns: number;
  neglected: number;
  transitions: number;
  transitionsWithRun: number;
  appliedUnexplained: number;
  /** Lease claims of all runs (the sum of their fencing epochs) and the most of one run. */
  claims: number;
  maxClaims: number;
  /** How far apart the processes' simulated clocks were (each process runs its own ScaledClock). */
  skewMs: number;
  /** From the processes' logs. */
  leaseLostWarnings: number;
  errorsLogged: number;
  quiet: boolean;
  quietWallMs: number;
  wallMs: number;
  observerPolls: number;
}

/** The figures counted from the store (the rest come from the processes). */
type StoreFigures = Omit<
  Figures,
  | 'scenario'
  | 'processes'
  | 'kills'
  | 'restarts'
  | 'newIds'
  | 'unexpectedExits'
  | 'startFailures'
  | 'leaseLostWarnings'
  | 'errorsLogged'
  | 'quiet'
  | 'quietWallMs'
  | 'wallMs'
>;

const stateOf = (direction: string) => (direction === 'start' ? 'on' : 'off');
const other = (state: 'on' | 'off') => (state === 'on' ? 'off' : 'on');

async function count(
  conn: Connection,
  config: LoadedConfig,
  workload: Workload,
  observer: Observer,
  t0: Instant,
  claimLimit: number,
  speed: number,
): Promise<{ figures: StoreFigures; findings: Finding[] }> {
  const db = conn.db;
  const findings: Finding[] = [...observer.repeated, ...observer.overlaps.values()];
  const runs: RunRow[] = await db.selectFrom('runs').selectAll().execute();
  const steps = await db.selectFrom('run_steps').selectAll().execute();
  const runsByStatus: Record<string, number> = {};
  for (const r of runs) runsByStatus[r.status] = (runsByStatus[r.status] ?? 0) + 1;

  // Repeated: the same (environment, target, seq) twice.
  const bySeq = new Map<string, RunRow[]>();
  for (const r of runs)
    if (r.seq !== null) {
      const key = `${r.environment}\u0000${r.target}\u0000${r.seq}`;
      bySeq.set(key, [...(bySeq.get(key) ?? []), r]);
    }
  let duplicateSeq = 0;
  for (const group of bySeq.values())
    if (group.length > 1) {
      duplicateSeq += group.length - 1;
      findings.push({
        kind: 'two runs with one (environment, target, seq)',
        text: `${group[0]!.environment} seq ${group[0]!.seq}: ${group.map((r) => r.id).join(', ')}`,
        runs: group.map((r) => r.id),
        environment: group[0]!.environment,
      });
    }

  // Repeated: two run.finished events for one run.
  const finishedEvents = await db
    .selectFrom('events')
    .select(['run_id', (eb) => eb.fn.countAll().as('n')])
    .where('kind', '=', 'run.finished')
    .groupBy('run_id')
    .execute();
  let finishedTwice = 0;
  for (const e of finishedEvents)
    if (Number(e.n) > 1 && e.run_id !== null) {
      finishedTwice++;
      findings.push({
        kind: 'run finished twice',
        text: `run ${e.run_id}: ${Number(e.n)} run.finished events`,
        runs: [e.run_id],
      });
    }

  // Repeated: provider acts the sandbox accepted that no step accounts for.
  const recorded = new Map<string, number>();
  const inFlight = new Map<string, number>();
  for (const s of steps) {
    const accepted =
      s.status === 'acted' ||
      s.status === 'done' ||
      (s.status === 'failed' && /did not reach|no longer exists/.test(s.error ?? ''));
    if (accepted) recorded.set(s.resource, (recorded.get(s.resource) ?? 0) + 1);
    // A step in flight at a kill explains at most one act the sandbox accepted without a record.
    if (observer.inFlightAtKill.has(s.id))
      inFlight.set(s.resource, (inFlight.get(s.resource) ?? 0) + 1);
  }
  let unexplainedActs = 0;
  let actsNotSeen = 0;
  let acceptedActs = 0;
  for (const id of new Set([...observer.accepted.keys(), ...recorded.keys()])) {
    const seen = observer.accepted.get(id) ?? 0;
    acceptedActs += seen;
    const extra = seen - (recorded.get(id) ?? 0);
    if (extra < 0) actsNotSeen += -extra;
    const unexplained = extra - (inFlight.get(id) ?? 0);
    if (unexplained > 0) {
      unexplainedActs += unexplained;
      const its = steps.filter((s) => s.resource === id).map((s) => s.run_id);
      findings.push({
        kind: 'provider acts no step accounts for',
        text: `${id}: the sandbox turned it on or off ${seen} times; steps recorded ${recorded.get(id) ?? 0} accepted acts, ${inFlight.get(id) ?? 0} were in flight at a kill`,
        runs: [...new Set(its)],
      });
    }
  }

  // Lost: at the end, against the plan now.
  const end = await convergence(conn, config);
  const environmentsOff = end?.environments.length ?? 0;
  const resourcesOff = end?.resources.length ?? 0;
  const openRuns = end?.open.length ?? 0;
  // One finding per environment, with its last runs.
  const differences = new Map<string, string[]>();
  for (const d of [...(end?.environments ?? []), ...(end?.resources ?? [])])
    differences.set(d.environment, [...(differences.get(d.environment) ?? []), d.text]);
  for (const [environment, texts] of differences)
    findings.push({
      kind: "not in the plan's state at the end",
      text: texts.join('; '),
      runs: runs
        .filter((r) => r.environment === environment)
        .sort((a, b) => a.created_at - b.created_at)
        .slice(-6)
        .map((r) => r.id),
      environment,
    });
  for (const d of end?.open ?? [])
    findings.push({
      kind: 'run left open',
      text: d.text,
      runs: [d.run],
      environment: d.environment,
    });

  // Each process runs its own ScaledClock: a run's UUIDv7 carries the real millisecond it was
  // made, so created_at − speed × that instant is its process's clock offset. The spread of the
  // offsets of runs made within the same 2 real seconds is how far apart the clocks were.
  const offsets = new Map<number, number[]>();
  for (const r of runs) {
    const real = parseInt(r.id.replace(/-/g, '').slice(0, 12), 16);
    const bucket = Math.floor(real / 2_000);
    offsets.set(bucket, [...(offsets.get(bucket) ?? []), r.created_at - speed * real]);
  }
  const skewMs = Math.max(0, ...[...offsets.values()].map((o) => Math.max(...o) - Math.min(...o)));
  // A pass of one process and the runs another made are compared across that spread.
  const slack = 1_000 + skewMs;

  // Lost: transitions neglected, from the applied state's history.
  const now = end?.now ?? (await lastPass(conn)) ?? t0;
  const adopted = await db
    .selectFrom('events')
    .select(['environment', 'at', 'payload'])
    .where('kind', '=', 'environment.adopted')
    .orderBy('id')
    .execute();
  const windowStart = t0 - 60 * MINUTE;
  const plan = await timelines(conn, config, windowStart, now + workload.maxGraceMs + MINUTE);
  let neglected = 0;
  let transitions = 0;
  let transitionsWithRun = 0;
  let appliedUnexplained = 0;
  const graces = new Map(config.fleet.environments.map((e) => [e.name, e.graceMs ?? 15 * MINUTE]));
  for (const environment of config.fleet.environments) {
    const env = environment.name;
    const timeline = plan.get(env)!;
    const adoption = adopted.find((a) => a.environment === env);
    if (adoption === undefined) continue;
    const adoptedAt = adoption.at;
    const own = runs.filter(
      (r) => r.environment === env && r.target === '' && r.direction !== 'boost',
    );
    const seqs = new Map(own.filter((r) => r.seq !== null).map((r) => [r.seq!, r]));
    // The applied state's history: seq 1 adopted, each run's seq its direction, a gap a supersession putting it back.
    const history: { at: number; state: 'on' | 'off' }[] = [
      { at: adoptedAt, state: (JSON.parse(adoption.payload) as { state: 'on' | 'off' }).state },
    ];
    const finalRow = await db
      .selectFrom('applied_states')
      .select('seq')
      .where('environment', '=', env)
      .where('resource', '=', '')
      .executeTakeFirst();
    const finalSeq = finalRow?.seq ?? 1;
    for (let seq = 2; seq <= finalSeq; seq++) {
      const run = seqs.get(seq);
      if (run !== undefined) {
        history.push({ at: run.created_at, state: stateOf(run.direction) });
        continue;
      }
      const before = seqs.get(seq - 1);
      if (before?.status === 'superseded' && before.finished_at !== null) {
        const kept =
          before.trigger === 'retry' ||
          before.trigger === 'enforce' ||
          before.trigger === 'auto-restart';
        const after = stateOf(before.direction);
        // As the engine's stateBefore: the prior state the run recorded, else from its trigger.
        const prior = (before as { prior_state?: 'on' | 'off' | null }).prior_state;
        history.push({ at: before.finished_at, state: prior ?? (kept ? after : other(after)) });
      } else {
        appliedUnexplained++;
      }
    }
    history.sort((a, b) => a.at - b.at);
    const appliedAt = (t: number) => {
      let state = history[0]!.state;
      for (const h of history) if (h.at <= t) state = h.state;
      return state;
    };
    const openAt = (t: number) =>
      own.some((r) => r.created_at <= t && (r.finished_at === null || t < r.finished_at));
    const grace = graces.get(env)!;
    // Every pass the observer saw (by the instant it recorded): one that found the plan and the
    // applied state apart, no run open, and created none before the next pass, neglected it.
    const created = own.map((r) => r.created_at).sort((x, y) => x - y);
    const passes = [...observer.passes]
      .filter((p) => p > adoptedAt && p <= now)
      .sort((x, y) => x - y);
    let stretch: { from: number; to: number; passes: number } | undefined;
    const close = () => {
      if (stretch === undefined) return;
      neglected++;
      const { from, to } = stretch;
      const near = own.filter(
        (r) => r.created_at < to + 10 * MINUTE && (r.finished_at ?? Infinity) > from - 10 * MINUTE,
      );
      findings.push({
        kind: 'transition neglected',
        text: `${env}: ${stretch.passes} pass(es) from ${iso(from)} to ${iso(to)} found the plan wanting ${timeline.stateAt(from)}, the applied state ${appliedAt(from)}, no run open, and created none`,
        runs: near.map((r) => r.id),
        environment: env,
      });
      stretch = undefined;
    };
    for (let i = 0; i < passes.length; i++) {
      const p = passes[i]!;
      const next = passes[i + 1] ?? now;
      const desired = timeline.stateAt(p);
      const needed =
        appliedAt(p) !== desired && (desired === 'on' || timeline.stateAt(p + grace) === 'off');
      const acted = created.some((t) => t >= p - slack && t <= next + slack);
      if (needed && !openAt(p) && !acted)
        stretch = { from: stretch?.from ?? p, to: p, passes: (stretch?.passes ?? 0) + 1 };
      else close();
    }
    close();
    for (const tr of timeline.plan().transitions)
      if (tr.at > adoptedAt && tr.at <= workload.stormEnd) {
        transitions++;
        if (own.some((r) => r.due_at === tr.at && stateOf(r.direction) === tr.state))
          transitionsWithRun++;
      }
  }

  // A run is claimed once per process that works on it: many more claims are a claiming loop.
  const claims = runs.reduce((sum, r) => sum + r.lease_epoch, 0);
  const maxClaims = Math.max(0, ...runs.map((r) => r.lease_epoch));
  const looping = runs.filter((r) => r.lease_epoch > claimLimit);
  if (looping.length > 0)
    findings.push({
      kind: 'runs claimed again and again',
      text: `${looping.length} run(s) claimed more than ${claimLimit} times (processes started + 5): ${looping
        .slice(0, 6)
        .map(
          (r) =>
            `${r.environment} ${r.id} ${r.status} ×${r.lease_epoch} (lease ${r.lease_owner ?? '-'})`,
        )
        .join('; ')}`,
      runs: looping.slice(0, 6).map((r) => r.id),
    });

  const repeated =
    observer.repeated.length +
    unexplainedActs +
    duplicateSeq +
    finishedTwice +
    observer.overlaps.size;
  const lost = environmentsOff + resourcesOff + openRuns + neglected;
  return {
    figures: {
      simulatedMinutes: Math.round((now - t0) / MINUTE),
      runs: runs.length,
      runsByStatus,
      steps: steps.length,
      acceptedActs,
      inFlightAtKills: observer.inFlightAtKill.size,
      reattemptsAfterKill: observer.reattemptsAfterKill,
      reattemptsNotInFlight: observer.reattemptsNotInFlight,
      transientRetries: observer.transientRetries,
      repeated,
      repeatedAfterRecorded: observer.repeated.length,
      unexplainedActs,
      actsNotSeen,
      duplicateSeq,
      finishedTwice,
      overlaps: observer.overlaps.size,
      lost,
      environmentsOff,
      resourcesOff,
      openRuns,
      neglected,
      transitions,
      transitionsWithRun,
      appliedUnexplained,
      observerPolls: observer.polls,
      claims,
      maxClaims,
      skewMs,
    },
    findings,
  };
}

/** The rows behind a finding: its runs, their steps and events, the environment's applied state. */
async function evidence(conn: Connection, finding: Finding): Promise<string> {
  const db = conn.db;
  const out: string[] = [];
  const ids = finding.runs.slice(0, 24);
  if (ids.length > 0) {
    const runs = await db
      .selectFrom('runs')
      .selectAll()
      .where('id', 'in', ids)
      .orderBy('created_at')
      .execute();
    for (const r of runs)
      out.push(
        `    run ${r.id} ${r.environment} ${r.direction} trigger=${r.trigger} status=${r.status} seq=${String(r.seq)} due=${iso(r.due_at)} act=${iso(r.act_at)} created=${iso(r.created_at)} finished=${r.finished_at === null ? '-' : iso(r.finished_at)} lease=${r.lease_owner ?? '-'}#${r.lease_epoch}`,
      );
    const steps = await db
      .selectFrom('run_steps')
      .selectAll()
      .where('run_id', 'in', ids)
      .orderBy('run_id')
      .orderBy('id')
      .execute();
    for (const s of steps)
      out.push(
        `      step ${s.run_id.slice(-12)} tier ${s.tier} ${s.resource} ${s.action} ${s.status} attempts=${s.attempts}${s.error === null ? '' : ` error="${s.error}"`}`,
      );
    const events = await db
      .selectFrom('events')
      .selectAll()
      .where('run_id', 'in', ids)
      .orderBy('id')
      .execute();
    for (const e of events)
      out.push(
        `      event ${iso(e.at)} ${e.kind} run ${e.run_id?.slice(-12) ?? '-'} ${e.payload.slice(0, 200)}`,
      );
  }
  if (finding.environment !== undefined) {
    const applied = await db
      .selectFrom('applied_states')
      .selectAll()
      .where('environment', '=', finding.environment)
      .execute();
    for (const a of applied)
      out.push(
        `    applied ${a.environment} '${a.resource}' ${a.state} seq=${a.seq} run=${a.run_id ?? '-'} failures=${a.failures} updated=${iso(a.updated_at)}`,
      );
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Scenarios

interface Outcome {
  readonly figures: Figures;
  readonly findings: readonly { finding: Finding; evidence: string }[];
  readonly db: string;
}

interface ScenarioSpec {
  readonly key: string;
  readonly title: string;
  readonly db: string;
  readonly replicas: number;
}

async function runScenario(
  spec: ScenarioSpec,
  opts: Options,
  dir: string,
  serveMain: string,
): Promise<Outcome> {
  const wallStart = Date.now();
  const rand = random(opts.seed * 7919 + hash(spec.key));
  // The kill plan first: it decides how long the storm lasts.
  const kills = planKills(rand, opts.kills, spec.replicas);
  const stormRealMs = opts.storm === undefined ? kills.stormRealMs : opts.storm * 1_000;
  const t0 = Date.now();
  const stormSimMs = stormRealMs * opts.speed * 0.8;
  const workload = writeWorkload(
    join(dir, spec.key),
    random(opts.seed),
    stormEndAfter(t0, stormSimMs),
  );
  const loaded = await loadConfigFile(workload.file);
  if (!loaded.ok)
    throw new Error(`the generated config is invalid: ${JSON.stringify(loaded.diagnostics)}`);
  const config = loaded.config;
  const processes = new Processes(
    join(dir, spec.key),
    workload.file,
    spec.db,
    opts.speed,
    spec.key,
    serveMain,
  );
  const say = (text: string) =>
    process.stderr.write(
      `[${spec.key} ${((Date.now() - wallStart) / 1000).toFixed(1)}s] ${text}\n`,
    );
  say(
    `storm until ${iso(workload.stormEnd)} (simulated), ${kills.steps.length} kills planned over ${(stormRealMs / 1000).toFixed(0)} s`,
  );

  const ids = Array.from({ length: spec.replicas }, (_, i) => `${spec.key}-r${i + 1}`);
  const first = await processes.start(ids[0]!);
  if (first === undefined)
    throw new Error(`the first serve did not start: ${processes.startFailures.join('; ')}`);
  const current: (Serve | undefined)[] = [first];
  for (let i = 1; i < spec.replicas; i++) current.push(await processes.start(ids[i]!));
  const conn = await connect(spec.db);
  const observer = new Observer(conn);
  observer.start();

  const restarts: Promise<void>[] = [];
  const stormStarted = Date.now();
  let generation = 0;
  const alive = (s: Serve | undefined): s is Serve =>
    s !== undefined && s.child.exitCode === null && s.child.signalCode === null;
  for (const step of kills.steps) {
    await sleep(step.afterMs);
    // The planned victim, or (while it is down) the next one that is up.
    const victim = [...current.keys()]
      .map((i) => (step.victim + i) % current.length)
      .find((i) => alive(current[i]));
    if (victim === undefined) continue;
    const serve = current[victim]!;
    await processes.kill(serve);
    processes.kills++;
    const inFlight = await observer.killed(serve.id);
    current[victim] = undefined;
    if (step.newId) {
      processes.newIds++;
      generation++;
      ids[victim] = `${spec.key}-r${victim + 1}-g${generation}`;
    }
    const id = ids[victim]!;
    say(
      `kill -9 ${serve.id} (${inFlight} step(s) in flight); back as ${id} in ${step.restartMs} ms`,
    );
    const restart = (async () => {
      await sleep(step.restartMs);
      processes.restarts++;
      // Not waiting for it to serve: a lifetime counts from the spawn, so some kills land in startup.
      current[victim] = await processes.start(id, false);
    })();
    // One process: its next lifetime counts from the restart. Several: the others race on.
    if (spec.replicas === 1) await restart;
    else restarts.push(restart);
  }
  await Promise.all(restarts);
  await sleep(Math.max(0, stormStarted + stormRealMs - Date.now()));
  // Restart anything that died by itself, so the fleet can go quiet.
  for (let i = 0; i < current.length; i++)
    if (!alive(current[i])) {
      processes.restarts++;
      current[i] = await processes.start(ids[i]!);
    }
  say('storm over; waiting for quiet');
  const quiet = await untilQuiet(conn, config, workload, 120_000);
  say(
    quiet.quiet
      ? `quiet after ${(quiet.wallMs / 1000).toFixed(1)} s`
      : 'NOT quiet before the timeout',
  );
  await processes.stopAll();
  await observer.stop();
  const { figures, findings } = await count(
    conn,
    config,
    workload,
    observer,
    t0,
    processes.started + 5,
    opts.speed,
  );
  const logs = processes.logCounts();
  if (spec.replicas === 1 && logs.leaseLost > 0)
    findings.push({
      kind: 'lease lost with one process',
      text: `"another replica took this run over" logged ${logs.leaseLost} times while only one process ran at a time (${logs.files.join(', ')})`,
      runs: [],
    });
  // The processes' own findings first; the rows behind the first 20.
  const leading = new Set(['lease lost with one process', 'runs claimed again and again']);
  const ordered = [
    ...findings.filter((f) => leading.has(f.kind)),
    ...findings.filter((f) => !leading.has(f.kind)),
  ];
  const detailed: { finding: Finding; evidence: string }[] = [];
  for (const [i, finding] of ordered.entries())
    detailed.push({ finding, evidence: i < 20 ? await evidence(conn, finding) : '' });
  await conn.close();
  return {
    db: spec.db,
    figures: {
      scenario: spec.title,
      processes: processes.started,
      kills: processes.kills,
      restarts: processes.restarts,
      newIds: processes.newIds,
      unexpectedExits: processes.unexpectedExits.length,
      leaseLostWarnings: logs.leaseLost,
      errorsLogged: logs.errors,
      startFailures: processes.startFailures.length,
      quiet: quiet.quiet,
      quietWallMs: quiet.wallMs,
      wallMs: Date.now() - wallStart,
      ...figures,
    },
    findings: [
      ...detailed,
      ...processes.unexpectedExits.map((text) => ({
        finding: { kind: 'process exited by itself', text, runs: [] },
        evidence: '',
      })),
      ...processes.startFailures.map((text) => ({
        finding: { kind: 'restart failed', text, runs: [] },
        evidence: '',
      })),
    ],
  };
}

interface KillPlan {
  readonly stormRealMs: number;
  readonly steps: { afterMs: number; victim: number; restartMs: number; newId: boolean }[];
}

/**
 * One process: lifetimes of 1.5–8 s from the spawn (one in seven 0.2–1.2 s: in startup), restarts
 * after 0.1–1 s. Several: a kill every 0.8–5 s of a random replica, back after 0.2–3 s.
 * Two kills (at most) restart with a new --replica-id.
 */
function planKills(rand: () => number, kills: number, replicas: number): KillPlan {
  const steps: KillPlan['steps'] = [];
  const renamed = new Set<number>();
  const candidates = Math.max(0, kills - 2);
  while (renamed.size < Math.min(2, candidates)) renamed.add(1 + Math.floor(rand() * candidates));
  for (let i = 0; i < kills; i++) {
    const afterMs =
      replicas === 1
        ? Math.round(rand() < 1 / 7 ? between(rand, 200, 1_200) : between(rand, 1_500, 8_000))
        : Math.round(between(rand, 800, 5_000));
    steps.push({
      afterMs,
      victim: Math.floor(rand() * replicas),
      restartMs: Math.round(replicas === 1 ? between(rand, 100, 1_000) : between(rand, 200, 3_000)),
      newId: renamed.has(i),
    });
  }
  const stormRealMs = steps.reduce((sum, s) => sum + s.afterMs, 0);
  return { stormRealMs, steps };
}

// ---------------------------------------------------------------------------------------------
// Report

function table(outcomes: readonly Outcome[]): string[] {
  const rows: [string, (f: Figures) => string][] = [
    ['kills (SIGKILL)', (f) => String(f.kills)],
    ['restarts (with a new --replica-id)', (f) => `${f.restarts} (${f.newIds})`],
    [
      'processes started / exited by themselves / failed to start',
      (f) => `${f.processes} / ${f.unexpectedExits} / ${f.startFailures}`,
    ],
    ['simulated time covered', (f) => `${f.simulatedMinutes} min`],
    [
      'spread of the processes’ simulated clocks (most, in 2 real s)',
      (f) => `${(f.skewMs / 1000).toFixed(0)} s`,
    ],
    [
      'runs: succeeded / failed / superseded / other',
      (f) => {
        const s = f.runsByStatus;
        const known = (s.succeeded ?? 0) + (s.failed ?? 0) + (s.superseded ?? 0);
        return `${f.runs}: ${s.succeeded ?? 0} / ${s.failed ?? 0} / ${s.superseded ?? 0} / ${f.runs - known}`;
      },
    ],
    ['steps', (f) => String(f.steps)],
    [
      'lease claims of runs (sum of fencing epochs; most for one run)',
      (f) => `${f.claims} (${f.maxClaims})`,
    ],
    [
      '"another replica took this run over" warnings / errors logged',
      (f) => `${f.leaseLostWarnings} / ${f.errorsLogged}`,
    ],
    ['provider acts accepted (sandbox turned a resource on or off)', (f) => String(f.acceptedActs)],
    ['steps in flight at a kill (attempt recorded, outcome not)', (f) => String(f.inFlightAtKills)],
    [
      '… re-attempted after the kill (at-least-once window, not a repeat)',
      (f) => `${f.reattemptsAfterKill} (${f.reattemptsNotInFlight} not in flight at a kill)`,
    ],
    [
      're-attempts after a transient error (sandbox IncorrectState)',
      (f) => String(f.transientRetries),
    ],
    [
      'plan transitions in the storm / with a run for that instant',
      (f) => `${f.transitions} / ${f.transitionsWithRun}`,
    ],
    ['**repeated actions**', (f) => `**${f.repeated}**`],
    [
      '… step attempted again after its outcome was recorded',
      (f) => String(f.repeatedAfterRecorded),
    ],
    ['… provider acts no step accounts for', (f) => String(f.unexplainedActs)],
    ['… two runs with one (environment, target, seq)', (f) => String(f.duplicateSeq)],
    ['… runs finished twice (two run.finished events)', (f) => String(f.finishedTwice)],
    ['… two runs of one environment acting at once', (f) => String(f.overlaps)],
    ['**lost actions**', (f) => `**${f.lost}**`],
    [
      '… environments whose applied state is not the plan at the end',
      (f) => String(f.environmentsOff),
    ],
    ['… resources not in the plan’s state at the end', (f) => String(f.resourcesOff)],
    ['… runs left open with act_at in the past', (f) => String(f.openRuns)],
    [
      '… transitions neglected (a pass saw plan ≠ applied, no run open, made none)',
      (f) => String(f.neglected),
    ],
    [
      'quiet (converged) after the storm',
      (f) => (f.quiet ? `yes, ${(f.quietWallMs / 1000).toFixed(0)} s` : 'no (timeout)'),
    ],
    ['wall time', (f) => `${(f.wallMs / 1000).toFixed(0)} s`],
  ];
  return [
    `| measure | ${outcomes.map((o) => o.figures.scenario).join(' | ')} |`,
    `| --- |${outcomes.map(() => ' --- |').join('')}`,
    ...rows.map(
      ([name, value]) => `| ${name} | ${outcomes.map((o) => value(o.figures)).join(' | ')} |`,
    ),
  ];
}

async function postgresVersion(url: string): Promise<string | undefined> {
  try {
    const conn = await connect(url);
    try {
      const { rows } = await sql<{ v: string }>`show server_version`.execute(conn.db);
      return rows[0]?.v;
    } finally {
      await conn.close();
    }
  } catch {
    return undefined;
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const conn = await connect(url);
  try {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(conn.db);
  } finally {
    await conn.close();
  }
}

function withSchema(url: string, schema: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('schema', schema);
  return parsed.toString();
}

function writeSection(lines: readonly string[]): void {
  const file = 'BENCHMARKS.md';
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf(SECTION);
  let next = text.length;
  if (start >= 0) {
    const after = text.indexOf('\n## ', start + SECTION.length);
    if (after >= 0) next = after + 1;
  }
  const before = start >= 0 ? text.slice(0, start) : `${text.trimEnd()}\n\n`;
  const rest = start >= 0 ? text.slice(next) : '';
  writeFileSync(file, `${before}${lines.join('\n')}\n${rest.length > 0 ? `\n${rest}` : ''}`);
}

/**
 * A copy of dist/ that every process of the run uses, so a build made meanwhile (by
 * the test suite, say) cannot change the code under test halfway. Returns its
 * main.js and the version it was built from (the commit, and the files of src/
 * changed since, whose diff is kept beside it).
 */
function snapshot(dir: string): { main: string; version: string } {
  const build = join(dir, 'build');
  mkdirSync(build, { recursive: true });
  cpSync('dist', join(build, 'dist'), { recursive: true });
  cpSync('package.json', join(build, 'package.json'));
  symlinkSync(resolve('node_modules'), join(build, 'node_modules'), 'dir');
  const git = (...args: string[]) => {
    const result = spawnSync('git', args, { encoding: 'utf8' });
    return result.status === 0 ? result.stdout.trimEnd() : '';
  };
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const changed = git('status', '--porcelain', '--', 'src')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.slice(3));
  writeFileSync(join(build, 'src.diff'), git('diff', 'HEAD', '--', 'src'));
  return {
    main: join(build, 'dist', 'cli', 'main.js'),
    version:
      changed.length === 0
        ? `commit ${commit}`
        : `commit ${commit} with uncommitted changes to ${changed.join(', ')}`,
  };
}

async function main(): Promise<void> {
  const opts = options();
  if (!existsSync('dist/cli/main.js'))
    throw new Error('dist/ is missing: run `npm run build` (or `npm run chaos`)');
  const wallStart = Date.now();
  const dir = mkdtempSync(join(tmpdir(), `lightsout-chaos-${opts.seed}-`));
  const { main: serveMain, version } = snapshot(dir);
  const suffix = Math.floor(Math.random() * 0xffffff).toString(16);
  const specs: ScenarioSpec[] = [];
  const schemas: string[] = [];
  if (opts.db !== 'postgres')
    specs.push({
      key: 'A-sqlite',
      title: 'A: crash storm, SQLite',
      db: `sqlite:${join(dir, 'A-sqlite', 'lightsout.db')}`,
      replicas: 1,
    });
  if (opts.db !== 'sqlite') {
    const a = `chaos_${opts.seed}_a_${suffix}`;
    const b = `chaos_${opts.seed}_b_${suffix}`;
    schemas.push(a, b);
    specs.push({
      key: 'A-postgres',
      title: 'A: crash storm, PostgreSQL',
      db: withSchema(opts.postgres, a),
      replicas: 1,
    });
    specs.push({
      key: 'B-postgres',
      title: `B: ${opts.replicas} racing replicas, PostgreSQL`,
      db: withSchema(opts.postgres, b),
      replicas: opts.replicas,
    });
  }
  for (const spec of specs) mkdirSync(join(dir, spec.key, 'logs'), { recursive: true });
  process.stderr.write(`lightsout chaos: seed ${opts.seed}, work directory ${dir}\n`);

  const outcomes: Outcome[] = [];
  for (const spec of specs) outcomes.push(await runScenario(spec, opts, dir, serveMain));
  const wallMs = Date.now() - wallStart;

  const command = `npx tsx bench/chaos.ts --kills ${opts.kills} --replicas ${opts.replicas} --db ${opts.db} --seed ${opts.seed} --speed ${opts.speed}`;
  const pg = opts.db === 'sqlite' ? undefined : await postgresVersion(opts.postgres);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${osType()} ${release()}, Node.js ${process.version}${pg === undefined ? '' : `, PostgreSQL ${pg}`}`;
  const findings = outcomes.flatMap((o) =>
    o.findings.map((f) => ({ ...f, scenario: o.figures.scenario, db: o.db })),
  );
  const lines = [
    SECTION,
    '',
    'Written by `npm run chaos -- --write` (bench/chaos.ts), not by `npm run bench`: real `lightsout serve`',
    'processes (a snapshot of dist/cli/main.js) killed with SIGKILL at random moments, then counted from',
    'the store.',
    '',
    `Machine: ${machine}. Run: ${new Date().toISOString().slice(0, 10)}, ${(wallMs / 1000).toFixed(0)} s of wall time, lightsout ${version}.`,
    `Command: \`${command}\`.`,
    '',
    `Fleet: ${ENVIRONMENTS} environments × 5 sandbox resources (rds; ec2 ×2 and asg; ecs: three tiers), on cron`,
    'schedules switching every 3 to 10 simulated minutes, grace 0 to 2 minutes, sandbox latency 5 s per call,',
    `\`serve --speed ${opts.speed}\` (settle delays are simulated: an RDS start takes 5 minutes, 5 s of wall time). From`,
    'the end of the storm, holds in the config pin each environment on or off; the fleet must then go quiet.',
    `A: one process killed ${opts.kills} times, restarted with the same --replica-id (twice with a new one: its`,
    `runs wait for the 60 s lease). B: ${opts.replicas} processes, each its own --replica-id, one killed at random every`,
    '0.8–5 s and back 0.2–3 s later (twice with a new id).',
    '',
    ...table(outcomes),
    '',
    "Repeated: an observer polls run_steps (with the run's lease epoch) and sandbox_resources every 100 ms;",
    'a step attempted again once its outcome was on record, a resource turned on or off with no step',
    'recording that act (beyond the steps in flight at a kill), a duplicate (environment, target, seq), a',
    'second `run.finished`, or two runs of an environment acting at once. A step whose attempt was recorded',
    'when the process died, and which the next process tries again, is the documented at-least-once window',
    '(the attempt is written before the provider is called); it is counted apart. Lost: after the plan has',
    'been still for longer than grace plus the slowest settle and every target has converged for 3 s,',
    "environments or resources not in the plan's state, open runs past their act_at, and passes that found",
    "the plan and the applied state (rebuilt from the runs' seq) apart with no run open and created none.",
    'Each process runs its own simulated clock (`--speed`; a process that starts resumes from the last',
    'pass), so racing replicas disagree on the time by up to the spread shown; passes and runs are compared',
    'across it.',
    '',
    'Found by earlier runs (seed 1, same command): at 4082c3f, a start stopped part-way by a stop that was',
    'itself superseded in grace left an environment half on while its applied state said on (ba61f09',
    'addresses it; not seen since); at 4082c3f and ba61f09, a process restarted on PostgreSQL claimed its',
    'own runs again and again (one process logged "another replica took this run over" 24,036 times, lease',
    'epochs reached 13,407) and they never finished (not seen since 8ee07ed reserves a run before claiming it).',
    ...(findings.length === 0
      ? []
      : ['', `Findings: ${findings.length}; see the output of the command.`]),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
  if (findings.length > 0) {
    process.stdout.write(
      `\nFINDINGS (seed ${opts.seed}, work directory ${dir}, command: ${command}):\n`,
    );
    for (const f of findings) {
      process.stdout.write(
        `\n[${f.scenario}] ${f.finding.kind}: ${f.finding.text}\n  db: ${f.db}\n`,
      );
      if (f.evidence !== '') process.stdout.write(`${f.evidence}\n`);
    }
  }
  if (opts.write) writeSection(lines);
  if (findings.length === 0 && !opts.keep)
    for (const s of schemas) await dropSchema(opts.postgres, s).catch(() => undefined);
  else
    process.stderr.write(
      `kept: ${dir}${schemas.length > 0 ? ` and PostgreSQL schemas ${schemas.join(', ')}` : ''}\n`,
    );
}

await main();
