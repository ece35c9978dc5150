/**
 * `lightsout plan` says when each large start begins to be running on time and
 * why, and warns when a schedule cannot be met with the account's limits.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { cli, configFile } from './run.js';

const ACCOUNT = '123456789012';

const config = (extra = '') =>
  configFile(`
timezone: UTC
schedules:
  half-hour:
    periods: [{ days: mon-fri, start: "07:00", stop: "07:30" }]
  office-hours:
    periods: [{ days: mon-fri, start: "07:00", stop: "19:00" }]
environments:
  big:
    schedule: half-hour
    select: { provider: aws, account: "${ACCOUNT}", regions: [eu-west-1], tags: { env: big } }
  qa:
    schedule: office-hours
    select: { provider: aws, account: "${ACCOUNT}", regions: [eu-west-1], tags: { env: qa } }
${extra}`);

function ec2(environment: string, count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `aws:ec2:eu-west-1:${ACCOUNT}:i-${environment}${i}`,
    provider: 'aws',
    kind: 'ec2',
    name: `i-${environment}${i}`,
    tags: { env: environment },
  }));
}

async function inventory(): Promise<string> {
  const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-plan-')), 'lightsout.db')}`;
  const store = await openStore(url);
  await store.upsertResources('big', ec2('big', 20_000), Date.parse('2026-06-01T00:00Z'));
  await store.upsertResources('qa', ec2('qa', 3_000), Date.parse('2026-06-01T00:00Z'));
  await store.close();
  return url;
}

// Tuesday, one day.
const DAY = ['--from', '2026-06-02T00:00Z', '--to', '2026-06-03T00:00Z'];

interface ReadyByJson {
  resources: number;
  starts: {
    runningBy: string;
    beginAt: string;
    waitMs: number;
    settleMs: number;
    bucket?: string;
    tokens?: number;
    sharedWith: string[];
    lateUntil?: string;
  }[];
  stops: { at: string; takesMs: number }[];
  warnings: string[];
}

async function planJson(args: string[]) {
  const result = await cli(['plan', ...args, '--json']);
  expect(result.code, result.err).toBe(0);
  return (JSON.parse(result.out) as { environments: Record<string, { readyBy?: ReadyByJson }> })
    .environments;
}

describe('lightsout plan: ready by the start time', () => {
  it('begins two starts sharing one account and region early, earliest deadline first, and says why', async () => {
    const db = await inventory();
    const environments = await planJson(['--config', config(), '--db', db, ...DAY]);
    const big = environments.big!.readyBy!;
    const qa = environments.qa!.readyBy!;
    expect(big.resources).toBe(20_000);
    // 23,000 instances for 07:00 through a bucket of 1,000 refilling at 2 a second:
    // 11,000 s of waiting between them, and 45 s for EC2 to come up.
    const bucket = `aws|${ACCOUNT}|eu-west-1|ec2:StartInstances:instances`;
    expect(big.starts[0]).toMatchObject({
      runningBy: '2026-06-02T07:00:00.000Z',
      bucket,
      tokens: 20_000,
      sharedWith: ['qa'],
    });
    expect(qa.starts[0]).toMatchObject({ bucket, tokens: 3_000, sharedWith: ['big'] });
    const first = Math.min(Date.parse(big.starts[0]!.beginAt), Date.parse(qa.starts[0]!.beginAt));
    expect(Date.parse('2026-06-02T07:00Z') - first).toBe(11_000_000 + 45_000);
    // A stop: 19,000 instances beyond the StopInstances burst at 20 a second, then 45 s.
    expect(big.stops[0]).toEqual({ at: '2026-06-02T07:30:00.000Z', takesMs: 950_000 + 45_000 });
    expect(big.warnings).toEqual([
      expect.stringMatching(
        /big is on for 30 min from 2026-06-02T07:00:00.000Z, but starting it takes/,
      ),
    ]);
    expect(qa.warnings).toEqual([]);
  });

  it('reads the account’s raised limits from the config', async () => {
    const db = await inventory();
    const raised = config(`aws:
  accounts:
    "${ACCOUNT}":
      limits:
        ec2:StartInstances:instances: { burst: 30000, per_second: 50 }`);
    const environments = await planJson(['--config', raised, '--db', db, ...DAY]);
    // The instances' bucket holds them all; StartInstances' call bucket now sets the
    // pace: 23 calls of up to 1,000 ids, 5 at once, then 2 a second.
    expect(environments.big!.readyBy!.starts[0]).toMatchObject({
      waitMs: 9_000,
      bucket: `aws|${ACCOUNT}|eu-west-1|ec2:StartInstances`,
    });
    expect(environments.big!.readyBy!.warnings).toEqual([]);
  });

  it('warns when a hold keeps the environment off past the time its start must begin', async () => {
    const db = await inventory();
    const held = config(`holds:
  - { environment: qa, state: off, until: "2026-06-02T06:50Z" }`);
    const environments = await planJson(['--config', held, '--db', db, '--env', 'qa', ...DAY]);
    const start = environments.qa!.readyBy!.starts[0]!;
    expect(start.beginAt).toBe('2026-06-02T06:50:00.000Z');
    // Held until 06:50 while big took its tokens; from the bucket refilled meanwhile, its
    // 2,000 instances beyond the burst at 2 a second and 45 s take 1,045 s: 7 min 25 s late.
    expect(start.lateUntil).toBe('2026-06-02T07:07:25.000Z');
    expect(environments.qa!.readyBy!.warnings[0]).toMatch(
      /a hold keeps qa off until 2026-06-02T06:50/,
    );
  });

  it('prints the plan in words, and says when there is no inventory to size it', async () => {
    const db = await inventory();
    const text = await cli(['plan', '--config', config(), '--db', db, '--env', 'big', ...DAY]);
    expect(text.out).toContain(
      'starts begin early to be running on time (20,000 resources in the inventory)',
    );
    expect(text.out).toMatch(
      /Tue 2026-06-02 07:00 +Tue 2026-06-02 0\d:\d\d +\d h \d+ min +45 s +qa/,
    );
    expect(text.out).toContain(
      `tokens: 20,000 from aws|${ACCOUNT}|eu-west-1|ec2:StartInstances:instances (1,000 at once, then 2 a second)`,
    );
    expect(text.out).toContain('a stop takes about 16 min 35 s');
    const none = join(mkdtempSync(join(tmpdir(), 'lightsout-plan-')), 'none.db');
    const bare = await cli(['plan', '--config', config(), '--db', `sqlite:${none}`, ...DAY]);
    expect(bare.out).toContain('starts: not sized: no store at --db yet');
  });

  it('explains the sandbox start that the engine begins at 06:51:10 (test/engine/ready-by.test.ts)', async () => {
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-plan-')), 'lightsout.db')}`;
    const store = await openStore(url);
    const sandbox = (kind: string, name: string) => ({
      id: `sandbox:${kind}:${name}`,
      provider: 'sandbox',
      kind,
      name,
      tags: { env: 'fleet' },
    });
    await store.upsertResources(
      'fleet',
      [
        sandbox('rds', 'fleet-db'),
        ...Array.from({ length: 5_000 }, (_, i) => sandbox('ec2', `fleet-${i}`)),
      ],
      Date.parse('2026-06-01T00:00Z'),
    );
    await store.close();
    const fleet = configFile(`
timezone: UTC
schedules:
  office-hours:
    periods: [{ days: mon-fri, start: "07:00", stop: "19:00" }]
sandbox:
  start_bucket: { burst: 1000, per_second: 20 }
environments:
  fleet:
    schedule: office-hours
    tiers:
      - { name: data, select: { provider: sandbox, kinds: [rds], tags: { env: fleet } } }
      - { name: apps, select: { provider: sandbox, kinds: [ec2], tags: { env: fleet } } }
`);
    const text = await cli(['plan', '--config', fleet, '--db', url, ...DAY]);
    expect(text.code, text.err).toBe(0);
    // The database's 5 min, then 4,000 instances beyond the burst at 20 a second, then 30 s.
    expect(text.out).toContain(
      'Tue 2026-06-02 07:00  Tue 2026-06-02 06:51  3 min 20 s          5 min 30 s',
    );
    expect(text.out).toContain(
      'tokens: 5,000 from sandbox|ec2:start (1,000 at once, then 20 a second)',
    );
  });
});
