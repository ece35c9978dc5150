/**
 * AWS's token buckets (issue 16, "no throttling storms"): part of `npm run bench`,
 * or alone with `npx tsx bench/buckets.bench.ts` (set LIGHTSOUT_BENCH_POSTGRES to a
 * PostgreSQL URL to measure the shared buckets there too).
 *
 * 1. Stops of 1,000 / 3,000 / 10,000 EC2 instances through the AwsProvider, limited
 *    and not, against the AWS double answering like AWS's buckets, on a virtual
 *    clock: throttled answers, StopInstances calls, the time the stop takes on the
 *    clock next to the floor AWS's StopInstances resource bucket allows (1,000 at
 *    once, then 20 a second), and the CPU it costs.
 * 2. The cost of one take from a bucket kept in the store (one short transaction).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Selector } from '../src/core/glossary.js';
import { MemoryBuckets } from '../src/core/token-bucket.js';
import { VirtualClock } from '../src/engine/clock.js';
import { AwsProvider } from '../src/providers/aws/aws.js';
import { AwsLimiter } from '../src/providers/aws/buckets.js';
import { openStore } from '../src/store/store.js';
import { AwsDouble } from '../test/support/aws-double.js';

const selector: Selector = {
  provider: 'aws',
  kinds: ['ec2'],
  tags: { env: 'bench' },
  settings: { regions: ['eu-west-3'], alarms: false },
};

async function stop(instances: number, limited: boolean) {
  const clock = new VirtualClock(0);
  const double = new AwsDouble({ now: () => clock.now() }).install();
  double.seedInstances(instances, { env: 'bench' });
  const throttling = double.throttleLikeAws(() => clock.now());
  const limiter = new AwsLimiter(new MemoryBuckets(), clock);
  const provider = new AwsProvider(limited ? { limiter } : {});
  const resources = await provider.discover(selector);
  const started = clock.now();
  const cpu = process.cpuUsage();
  const outcomes = await provider.act(resources, 'off');
  const used = process.cpuUsage(cpu);
  double.restore();
  return {
    accepted: outcomes.filter((o) => o.result === 'accepted').length,
    throttled: [...throttling.refused.values()].reduce((a, b) => a + b, 0),
    calls: double.calls('StopInstances'),
    seconds: (clock.now() - started) / 1000,
    floor: Math.max(0, instances - 1_000) / 20,
    cpuMs: (used.user + used.system) / 1000,
  };
}

async function takes(url: string, count: number): Promise<number> {
  const store = await openStore(url);
  try {
    const buckets = store.buckets();
    const rate = { burst: count, perSecond: 1 };
    const started = performance.now();
    for (let i = 0; i < count; i++) await buckets.take('bench', rate, 1, 0);
    return (performance.now() - started) / count;
  } finally {
    await store.close();
  }
}

export async function bucketBenchmarks(): Promise<string[]> {
  const lines = [
    "## AWS token buckets (issue 16): stops against the AWS double answering like AWS's buckets",
    '',
    'Virtual clock: waits take no real time; "on the clock" is how long the stop takes in AWS time. Floor: StopInstances\' resource bucket, 1,000 instances at once then 20 a second.',
    '',
    '| instances | limiter | accepted | throttled answers | StopInstances calls | on the clock | floor | CPU |',
    '| --------- | ------- | -------- | ----------------- | ------------------- | ------------ | ----- | --- |',
  ];
  for (const instances of [1_000, 3_000, 10_000])
    for (const limited of [false, true]) {
      const r = await stop(instances, limited);
      lines.push(
        `| ${instances.toLocaleString('en')} | ${limited ? 'yes' : 'no'} | ${r.accepted.toLocaleString('en')} | ${r.throttled} | ${r.calls} | ${r.seconds.toFixed(1)} s | ${r.floor.toFixed(0)} s | ${r.cpuMs.toFixed(0)} ms |`,
      );
    }
  const count = 2_000;
  const sqlite = await takes(
    `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-bench-')), 'b.db')}`,
    count,
  );
  let line = `One take from a bucket in the store (${count.toLocaleString('en')} in a row): SQLite ${sqlite.toFixed(3)} ms`;
  const postgres = process.env.LIGHTSOUT_BENCH_POSTGRES;
  if (postgres !== undefined && postgres !== '') {
    const schema = `bench_${Date.now()}`;
    const ms = await takes(
      `${postgres}${postgres.includes('?') ? '&' : '?'}schema=${schema}`,
      count,
    );
    line += `, PostgreSQL ${ms.toFixed(3)} ms`;
  }
  lines.push('', `${line}.`);
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`)
  process.stdout.write(`${(await bucketBenchmarks()).join('\n')}\n`);
