/**
 * `lightsout savings` over a store with recorded runs: per environment and per
 * day, as a table, JSON and CSV; prices from the table, the config and nowhere;
 * bad input refused with the flag and the fix.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/store/queries/events.js';
import { openStore } from '../../src/store/store.js';
import { cli, configFile } from './run.js';

const CONFIG = configFile(`
timezone: Europe/Paris
schedules:
  office-hours:
    periods: [{ days: mon-fri, start: "08:00", stop: "19:00" }]
  old-habits:
    periods: [{ days: mon-fri, start: "07:00", stop: "21:00" }]
environments:
  dev:
    schedule: office-hours
    team: payments
    select: { provider: sandbox, tags: { env: dev } }
    savings: { resources: { dev-web: 0.05 }, hourly: 0.02 }
  qa:
    schedule: office-hours
    team: search
    select: { provider: sandbox, tags: { env: qa } }
    savings: { baseline: old-habits }
`);

const WEB = 'sandbox:ec2:dev-web';
const BOX = 'sandbox:ec2:dev-box';
const QA = 'sandbox:ec2:qa-web';
const at = (iso: string) => Date.parse(iso);

function finished(
  iso: string,
  environment: string,
  direction: string,
  resources: string[],
): EventInput {
  return {
    at: at(iso),
    actor: 'lightsout',
    kind: 'run.finished',
    environment,
    payload: { direction, resources: resources.map((resource) => ({ resource, status: 'done' })) },
  };
}

/** A store with a night and a weekend of recorded runs. */
async function store() {
  const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-savings-')), 'lightsout.db')}`;
  const s = await openStore(url);
  await s.appendEvents([
    // Monday 1 June 19:00 to Tuesday 08:00 in Paris: 13 h.
    finished('2026-06-01T17:00Z', 'dev', 'stop', [WEB, BOX]),
    finished('2026-06-02T06:00Z', 'dev', 'start', [WEB, BOX]),
    finished('2026-06-01T17:00Z', 'qa', 'stop', [QA]),
    finished('2026-06-02T06:00Z', 'qa', 'start', [QA]),
  ]);
  await s.close();
  return ['--config', CONFIG, '--db', url];
}

const WINDOW = ['--from', '2026-06-01T00:00Z', '--to', '2026-06-03T00:00Z'];
const run = (args: string[]) => cli(args, at('2026-06-03T00:00Z'));

describe('lightsout savings', () => {
  it('values each environment from the event log, its prices and its baseline', async () => {
    const db = await store();
    const result = await run(['savings', ...WINDOW, '--json', ...db]);
    expect(result.code, result.err).toBe(0);
    const report = JSON.parse(result.out) as {
      environments: {
        environment: string;
        hoursOff: number;
        hoursSaved: number;
        money: number;
        unpriced: string[];
        resources: { resource: string; money: number; priceSource: string }[];
      }[];
      totals: { money: number };
      notes: string[];
    };
    const [dev, qa] = report.environments;
    // dev-web: 13 h x 0.05 (its own price); dev-box: 13 h x 0.02 (the environment's hourly).
    expect(dev).toMatchObject({ environment: 'dev', hoursOff: 26, hoursSaved: 26, unpriced: [] });
    expect(dev!.money).toBeCloseTo(13 * 0.05 + 13 * 0.02, 10);
    expect(dev!.resources.find((r) => r.resource === WEB)!.priceSource).toBe(
      'config: environments.dev.savings.resources',
    );
    // qa ran 07:00-21:00 before: of its 13 h off, 19:00-21:00 and 07:00-08:00 are saved.
    expect(qa).toMatchObject({ environment: 'qa', hoursOff: 13, hoursSaved: 3, money: 0 });
    expect(qa!.unpriced).toEqual([QA]);
    expect(report.totals.money).toBeCloseTo(0.91, 10);
    expect(report.notes.join(' ')).toContain('EBS');
  });

  it('prints a table with totals and the unpriced resources, and per day with --by', async () => {
    const db = await store();
    const result = await run(['savings', ...WINDOW, '--by', 'day', '--env', 'dev', ...db]);
    expect(result.code, result.err).toBe(0);
    // No size known for these sandbox machines: no energy or carbon, shown as "-", not 0.
    expect(result.out).toMatch(/dev\s+payments\s+26\.0\s+26\.0\s+0\.91\s+-\s+-/);
    expect(result.out).toMatch(/total\s+26\.0\s+26\.0\s+0\.91/);
    // Days in Paris: Monday 19:00-24:00 (5 h x 2; the day starts at the window's start),
    // Tuesday 00:00-08:00 (8 h x 2).
    expect(result.out).toMatch(/dev\s+2026-06-01T00:00:00\.000Z\s+10\.0/);
    expect(result.out).toMatch(/dev\s+2026-06-01T22:00:00\.000Z\s+16\.0/);
  });

  it('prints CSV for spreadsheets, one line per environment', async () => {
    const db = await store();
    const result = await run(['savings', ...WINDOW, '--team', 'search', '--csv', ...db]);
    expect(result.out.split('\n')).toEqual([
      'environment,team,period,hours_off,hours_saved,usd,kwh,kg_co2e',
      'qa,search,,13,3,0,0,0',
    ]);
  });

  it.each([
    [['--env', 'prod'], 'there is no environment "prod"'],
    [['--team', 'nobody'], 'there is no team "nobody"; known: payments, search'],
    [
      ['--from', '2026-06-03T00:00Z', '--to', '2026-06-01T00:00Z'],
      '--to (2026-06-01T00:00:00.000Z) is not after --from',
    ],
    [['--by', 'year'], '--by "year" is not a period; write --by day, week or month'],
    [['--json', '--csv'], 'give --json or --csv, not both'],
  ])('refuses %j with the fix', async (args, message) => {
    const db = await store();
    const result = await run(['savings', ...args, ...db]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
    expect(result.out).toBe('');
  });
});

describe('lightsout savings over an inventory that knows sizes', () => {
  const config = configFile(`
timezone: Europe/Paris
schedules:
  office-hours:
    periods: [{ days: mon-fri, start: "08:00", stop: "19:00" }]
environments:
  staging:
    schedule: office-hours
    select:
      provider: aws
      regions: [eu-west-3]
      kinds: [ec2, asg, ecs, rds]
      tags: { env: staging }
`);
  const aws = (kind: string, name: string) => `aws:${kind}:eu-west-3:123456789012:${name}`;
  const resources = [
    { kind: 'ec2', name: 'i-0web', size: { type: 'm5.large' } },
    { kind: 'asg', name: 'workers', size: { type: 't3.large', count: 3 } },
    {
      kind: 'ecs',
      name: 'apps/api',
      size: { count: 2, vcpu: 0.5, memoryGb: 1, capacity: ['FARGATE'] },
    },
    { kind: 'rds', name: 'orders', size: { type: 'db.m5.large' } },
  ].map((r) => ({ ...r, id: aws(r.kind, r.name), provider: 'aws', tags: { env: 'staging' } }));

  it('prices each resource from the table by its type, count and task size; the database stays unpriced', async () => {
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-sizes-')), 'lightsout.db')}`;
    const s = await openStore(url);
    await s.recordDiscovered('staging', resources, at('2026-06-01T12:00Z'));
    const ids = resources.map((r) => r.id);
    // Monday 19:00 to Tuesday 08:00 in Paris: 13 h off.
    await s.appendEvents([
      finished('2026-06-01T17:00Z', 'staging', 'stop', ids),
      finished('2026-06-02T06:00Z', 'staging', 'start', ids),
    ]);
    await s.close();
    const result = await run(['savings', ...WINDOW, '--json', '--config', config, '--db', url]);
    expect(result.code, result.err).toBe(0);
    const [staging] = (
      JSON.parse(result.out) as {
        environments: {
          money: number;
          unpriced: string[];
          resources: { resource: string; money: number | null; priceSource: string | null }[];
        }[];
      }
    ).environments;
    const money = Object.fromEntries(staging!.resources.map((r) => [r.resource, r.money]));
    // m5.large in eu-west-3: 0.112 an hour
    expect(money[aws('ec2', 'i-0web')]).toBeCloseTo(13 * 0.112, 10);
    // 3 x t3.large at 0.0944
    expect(money[aws('asg', 'workers')]).toBeCloseTo(13 * 3 * 0.0944, 10);
    // 2 tasks x (0.5 vCPU x 0.0486 + 1 GB x 0.0053)
    expect(money[aws('ecs', 'apps/api')]).toBeCloseTo(13 * 2 * 0.0296, 10);
    expect(money[aws('rds', 'orders')]).toBeNull();
    expect(staging!.unpriced).toEqual([aws('rds', 'orders')]);
    expect(staging!.money).toBeCloseTo(13 * (0.112 + 0.2832 + 0.0592), 10);
    expect(staging!.resources.find((r) => r.resource === aws('asg', 'workers'))!.priceSource).toBe(
      'price table: 3 x EC2 t3.large in eu-west-3',
    );
  });
});
