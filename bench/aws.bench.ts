/**
 * The AWS provider's benchmark (part of `npm run bench`), from issue #5: stop
 * 10,000 EC2 instances of one region, each with a CPU alarm, through the engine
 * and the real AwsProvider against the stateful AWS double of the tests (AWS is
 * not reachable here). It reports the API calls to discover, stop, verify and
 * disable alarms next to the minimum, and the time the engine spends outside
 * the SDK: the run's wall time minus the time inside the (mocked) SDK calls.
 * Verification polls do not wait: the clock's sleep returns at once, so the time
 * is work, not waiting.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import type { Environment } from '../src/core/glossary.js';
import { Engine } from '../src/engine/engine.js';
import type { Clock, Notifier } from '../src/engine/ports.js';
import { AwsProvider } from '../src/providers/aws/aws.js';
import { openStore } from '../src/store/store.js';
import { AwsDouble } from '../test/support/aws-double.js';

const INSTANCES = 10_000;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const silent: Notifier = { send: () => Promise.resolve() };
const instantClock: Clock = { now: () => Date.now(), sleep: () => Promise.resolve() };

/** Measures the time spent inside `send` of the given (mocked) client classes. */
function timeInside(classes: { prototype: { send: unknown } }[]): { ms: number } {
  const inside = { ms: 0 };
  for (const Client of classes) {
    const send = Client.prototype.send as (...args: unknown[]) => Promise<unknown>;
    Client.prototype.send = async function (this: unknown, ...args: unknown[]) {
      const started = performance.now();
      try {
        return await send.apply(this, args);
      } finally {
        inside.ms += performance.now() - started;
      }
    };
  }
  return inside;
}

export async function awsBenchmarks(): Promise<string[]> {
  const double = new AwsDouble({ region: 'eu-west-3' }).install();
  const ids = double.seedInstances(INSTANCES, { env: 'bench' }, 'node');
  for (const id of ids) double.addAlarm({ name: `${id}-cpu`, dimensions: { InstanceId: id } });
  const inside = timeInside([EC2Client, CloudWatchClient]);
  const store = await openStore(
    `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-bench-')), 'bench.db')}`,
  );
  const environment: Environment = {
    name: 'bench',
    timezone: 'UTC',
    graceMs: 0,
    tiers: [
      {
        name: 'instances',
        select: [
          {
            provider: 'aws',
            kinds: ['ec2'],
            tags: { env: 'bench' },
            settings: { regions: ['eu-west-3'], alarms: true },
          },
        ],
      },
    ],
  };
  const engine = new Engine({
    store,
    providers: new Map([['aws', new AwsProvider({ restore: store.restoreData(Date.now) })]]),
    clock: instantClock,
    notifier: silent,
    log: quiet,
    schedules: new Map(),
    environments: [environment],
    pollMs: 1_000,
  });
  await engine.command('bench', 'stop', 'bench', 0);
  double.clearCalls();
  const started = performance.now();
  await engine.tick();
  await engine.idle();
  const totalMs = performance.now() - started;
  const [run] = await store.listRuns({ limit: 1 });
  await store.close();
  double.restore();
  const stopped = ids.filter((id) => double.instance(id).state === 'stopped').length;
  const disabled = INSTANCES - double.enabledAlarms().length;
  const calls = (...commands: string[]) => commands.reduce((n, c) => n + double.calls(c), 0);
  const rows: [string, number, number, string][] = [
    [
      'discover: DescribeInstances by tag, 1,000 a page',
      calls('DescribeInstances') - verifyCalls(double),
      INSTANCES / 1_000,
      '',
    ],
    ['stop: StopInstances, 100 ids a call', calls('StopInstances'), INSTANCES / 100, ''],
    [
      'verify: DescribeInstances by instance-id, 200 ids a call',
      verifyCalls(double),
      INSTANCES / 200,
      'one poll sees them stopping, the next stopped',
    ],
    ['alarms: DescribeAlarms, 100 a page', calls('DescribeAlarms'), INSTANCES / 100, ''],
    [
      'alarms: DisableAlarmActions, 100 names a call',
      calls('DisableAlarmActions'),
      INSTANCES / 100,
      '',
    ],
  ];
  return [
    '## AWS provider: 10,000 EC2 instances in one region (stateful AWS double, SQLite store)',
    '',
    `Run \`${run?.status ?? 'missing'}\`: ${stopped.toLocaleString('en')} instances stopped, ${disabled.toLocaleString('en')} alarms disabled, in ${(totalMs / 1000).toFixed(2)} s; ` +
      `time inside the mocked SDK ${(inside.ms / 1000).toFixed(2)} s, so the engine spends **${((totalMs - inside.ms) / 1000).toFixed(2)} s** outside the SDK (store, batching, matching alarms).`,
    '',
    '| calls | made | minimum | note |',
    '| ----- | ---- | ------- | ---- |',
    ...rows.map(([what, made, minimum, note]) => `| ${what} | ${made} | ${minimum} | ${note} |`),
  ];
}

/** DescribeInstances calls that name instance ids (verification), as opposed to discovery by tag. */
function verifyCalls(double: AwsDouble): number {
  return double
    .inputs('DescribeInstances')
    .filter((input) =>
      ((input.Filters as { Name?: string }[] | undefined) ?? []).some(
        (f) => f.Name === 'instance-id',
      ),
    ).length;
}
