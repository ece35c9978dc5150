/**
 * Issue 16's CPU target, measured in `serve`: the service as `lightsout serve`
 * starts it (src/app/service.ts: the config file loaded, the store, the AWS
 * provider with its token buckets shared through the store, the notifier, the
 * JSON logger, the HTTP API, the reconciler loop) stops 5,000 tagged EC2
 * instances, each with a CPU alarm, against the stateful AWS double of the tests
 * (installed on the SDK clients' `send`, as AWS cannot be reached here).
 *
 * The clock is `serve --speed`'s (a scaled clock kept with the store), so the
 * waits of the stop (the StopInstances resource bucket, verification's first
 * look at 45 s, the alarm buckets) take a thousandth of their time; CPU is
 * counted by process.cpuUsage from the ad-hoc stop to its run's end (discovery,
 * acting, verification, alarms, events, steps and the summary), with the
 * double's own time inside `send` reported beside it.
 *
 * Part of `npm run bench`, or alone: `npx tsx bench/aws-serve.bench.ts [instances]`
 * (with LIGHTSOUT_BENCH_POSTGRES set, on PostgreSQL too).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { Writable } from 'node:stream';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { createLogger } from '../src/app/logger.js';
import { startService } from '../src/app/service.js';
import type { Service } from '../src/app/service.js';
import type { Engine } from '../src/engine/engine.js';
import { loadConfigFile } from '../src/config/load.js';
import { serveClock } from '../src/cli/serve.js';
import { LAST_PASS } from '../src/engine/pass.js';
import { AwsDouble } from '../test/support/aws-double.js';
import { timeInside } from './aws.bench.js';

const INSTANCES = 5_000;
/**
 * `serve --speed`: the stop's waits (about 4 minutes at real speed) take 2.6 s.
 * Faster is not closer to `serve`: each millisecond of work is then a tenth of a
 * second of the clock, the stop lasts longer on it, and the reconciler's passes
 * (every 30 s) and lease renewals (every 20 s) it meets grow in number.
 */
const SPEED = 100;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'superseded']);

const CONFIG = `
timezone: UTC
environments:
  bench:
    tiers:
      - name: instances
        select: { provider: aws, regions: [eu-west-3], kinds: [ec2], tags: { env: bench }, alarms: true }
`;

export interface ServeMeasured {
  readonly database: string;
  readonly instances: number;
  readonly speed: number;
  readonly status: string;
  readonly stopped: number;
  readonly disabled: number;
  readonly requests: number;
  readonly logLines: number;
  readonly wallMs: number;
  readonly insideMs: number;
  readonly cpuMs: number;
}

/** The databases measured: SQLite always, PostgreSQL when LIGHTSOUT_BENCH_POSTGRES is set. */
function databases(): { name: string; url: string }[] {
  const sqlite = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-bench-')), 'serve.db')}`;
  const postgres = process.env.LIGHTSOUT_BENCH_POSTGRES;
  const list = [{ name: 'SQLite', url: sqlite }];
  if (postgres !== undefined && postgres !== '') {
    const schema = `bench_${randomUUID().replaceAll('-', '')}`;
    list.push({
      name: 'PostgreSQL',
      url: `${postgres}${postgres.includes('?') ? '&' : '?'}schema=${schema}`,
    });
  }
  return list;
}

async function startBenchService(
  db: string,
  speed: number,
  lines: { count: number },
): Promise<Service> {
  const file = join(mkdtempSync(join(tmpdir(), 'lightsout-bench-')), 'lightsout.yaml');
  writeFileSync(file, CONFIG);
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  // The JSON lines `serve` writes to stdout, serialized in full, then counted and dropped.
  const sink = new Writable({
    write(_chunk: Buffer, _encoding, done) {
      lines.count += 1;
      done();
    },
  });
  return startService({
    config: loaded.config,
    db,
    clock: serveClock(speed),
    log: createLogger(sink, 'info', 'json'),
    port: 0,
    host: '127.0.0.1',
  });
}

/**
 * With LIGHTSOUT_BENCH_PROFILE=DIR, the measured stop alone is profiled (the
 * inspector's CPU profiler) into DIR/aws-serve-DATABASE.cpuprofile, for Chrome's
 * DevTools or speedscope.
 */
async function profiler(name: string): Promise<() => Promise<void>> {
  const dir = process.env.LIGHTSOUT_BENCH_PROFILE;
  if (dir === undefined || dir === '') return () => Promise.resolve();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(dir, `aws-serve-${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  };
}

/**
 * Waits until `done`, asked at each change the engine announces (a run's end is
 * one) and once a second: a poll of the store every few milliseconds would cost
 * more CPU over a stop of minutes than the stop itself.
 */
async function until(engine: Engine, done: () => Promise<boolean>): Promise<void> {
  let wake = (): void => undefined;
  const unsubscribe = engine.onChange(() => {
    wake();
  });
  try {
    while (!(await done()))
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
  } finally {
    unsubscribe();
  }
}

export interface ServeStop {
  readonly instances: number;
  /** `serve --speed` (1: real time). */
  readonly speed: number;
  /** Told when the measured stop begins and ends (to count what it does: statements, say). */
  readonly measuring?: (on: boolean) => void;
}

/** One ad-hoc stop of `instances` instances in a service started as `serve` starts it. */
export async function stopInServe(
  database: { name: string; url: string },
  { instances, speed, measuring = () => undefined }: ServeStop,
): Promise<ServeMeasured> {
  // The double's clock is the service's, which the service makes when it starts.
  const running: { service?: Service } = {};
  const now = () => running.service?.clock.now() ?? Date.now();
  const double = new AwsDouble({ region: 'eu-west-3', now, settleMs: 40_000 }).install();
  const ids = double.seedInstances(instances, { env: 'bench' }, 'node');
  for (const id of ids) double.addAlarm({ name: `${id}-cpu`, dimensions: { InstanceId: id } });
  const lines = { count: 0 };
  const service = await startBenchService(database.url, speed, lines);
  running.service = service;
  // The first pass adopts the environment (no schedule: nothing to do); then the stop.
  await until(service.engine, async () => (await service.store.readValue(LAST_PASS)) !== undefined);
  double.clearCalls();
  lines.count = 0;
  const inside = timeInside([EC2Client, CloudWatchClient]);
  const profiled = await profiler(database.name);
  measuring(true);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const run = await service.engine.command('bench', 'stop', 'bench', 0);
  let status = run.status as string;
  await until(service.engine, async () => {
    status = (await service.store.getRun(run.id))?.status ?? 'missing';
    return FINISHED.has(status);
  });
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  measuring(false);
  await profiled();
  inside.undo();
  const logLines = lines.count;
  await service.stop();
  double.restore();
  return {
    database: database.name,
    instances,
    speed,
    status,
    stopped: ids.filter((id) => double.instance(id).state === 'stopped').length,
    disabled: instances - double.enabledAlarms().length,
    requests: double.totalCalls(),
    logLines,
    wallMs,
    insideMs: inside.ms,
    cpuMs: (used.user + used.system) / 1000,
  };
}

export async function awsServeBenchmarks(): Promise<string[]> {
  const results: ServeMeasured[] = [];
  for (const database of databases())
    results.push(await stopInServe(database, { instances: INSTANCES, speed: SPEED }));
  const s = (ms: number) => (ms / 1000).toFixed(2);
  return [
    `### The ${INSTANCES.toLocaleString('en')}-instance stop in \`serve\` (issue 16: under 2.5 s of CPU)`,
    '',
    `The service as \`lightsout serve --speed ${SPEED}\` starts it (src/app/service.ts: config file, store, AWS provider with its token buckets in the store, notifier, JSON logger, HTTP API, reconciler loop), in the benchmark process, its SDK clients answered by the AWS double. An ad-hoc stop of ${INSTANCES.toLocaleString('en')} EC2 instances, one CPU alarm each; CPU from the command to the run's end: discovery, StopInstances (the resource bucket's waits on the scaled clock), verification, alarms, events, steps, summary.`,
    '',
    '| store | run | stopped / alarms disabled | requests | log lines | wall | inside the mocked SDK | CPU | target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...results.map(
      (m) =>
        `| ${m.database} | \`${m.status}\` | ${m.stopped.toLocaleString('en')} / ${m.disabled.toLocaleString('en')} | ${m.requests} | ${m.logLines} | ${s(m.wallMs)} s | ${s(m.insideMs)} s | **${s(m.cpuMs)} s** | < 2.5 s |`,
    ),
  ];
}

if (process.argv[1]?.endsWith('aws-serve.bench.ts')) {
  const instances = Number(process.argv[2] ?? INSTANCES);
  const speed = Number(process.argv[3] ?? SPEED);
  for (const database of databases())
    process.stdout.write(
      `${JSON.stringify(await stopInServe(database, { instances, speed }), null, 2)}\n`,
    );
}
