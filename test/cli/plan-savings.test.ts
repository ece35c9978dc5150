/**
 * `lightsout plan --savings`: what the config would save on the store's inventory,
 * and what a proposed config would save instead.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { cli, configFile } from './run.js';

const config = (stop: string) =>
  configFile(`
schedules:
  office-hours:
    periods: [{ days: mon-fri, start: "08:00", stop: "${stop}" }]
environments:
  dev:
    schedule: office-hours
    select: { provider: sandbox, tags: { env: dev } }
    savings: { resources: { dev-web: 0.05 } }
`);

async function storeWithInventory(): Promise<string> {
  const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-plan-')), 'lightsout.db')}`;
  const store = await openStore(url);
  await store.upsertResources(
    'dev',
    [
      { id: 'sandbox:ec2:dev-web', provider: 'sandbox', kind: 'ec2', name: 'dev-web', tags: {} },
      { id: 'sandbox:ec2:dev-box', provider: 'sandbox', kind: 'ec2', name: 'dev-box', tags: {} },
    ],
    Date.parse('2026-06-01T00:00Z'),
  );
  await store.close();
  return url;
}

// A week, Monday to Monday (UTC).
const WEEK = ['--from', '2026-06-01T00:00Z', '--to', '2026-06-08T00:00Z'];

describe('lightsout plan --savings', () => {
  it('projects the week on the inventory, and compares a proposed schedule', async () => {
    const db = await storeWithInventory();
    const result = await cli([
      'plan',
      '--savings',
      '--config',
      config('19:00'),
      '--proposed',
      config('18:00'),
      '--db',
      db,
      ...WEEK,
      '--json',
    ]);
    expect(result.code, result.err).toBe(0);
    const answer = JSON.parse(result.out) as {
      current: { hoursOff: number; resourceHoursSaved: number; money: number; unpriced: number }[];
      proposed: { hoursOff: number; money: number }[];
    };
    // On 08:00-19:00 five days (55 h) of 168: 113 h off; two resources, one priced at 0.05.
    expect(answer.current[0]).toMatchObject({
      hoursOff: 113,
      resourceHoursSaved: 226,
      unpriced: 1,
    });
    expect(answer.current[0]!.money).toBeCloseTo(5.65, 10);
    // Stopping at 18:00 instead: 118 h off.
    expect(answer.proposed[0]!.hoursOff).toBe(118);
    expect(answer.proposed[0]!.money).toBeCloseTo(5.9, 10);

    const text = await cli([
      'plan',
      '--savings',
      '--config',
      config('19:00'),
      '--proposed',
      config('18:00'),
      '--db',
      db,
      ...WEEK,
    ]);
    expect(text.out).toContain(
      'dev: the proposed config saves 4 % more (resource hours saved 226.0 -> 236.0)',
    );
    expect(text.out).toContain('1 resources have no price');
  });

  it('without a store, projects hours per environment and says what is missing', async () => {
    const db = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-plan-')), 'none.db')}`;
    const result = await cli([
      'plan',
      '--savings',
      '--config',
      config('19:00'),
      '--db',
      db,
      ...WEEK,
    ]);
    expect(result.code, result.err).toBe(0);
    expect(result.out).toMatch(/dev\s+113\.0\s+0\.0\s+0\.00/);
    expect(result.out).toContain('no inventory in the store');
  });

  it('refuses --proposed without --savings', async () => {
    const result = await cli(['plan', '--config', config('19:00'), '--proposed', config('18:00')]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('--proposed compares savings: add --savings');
  });
});
