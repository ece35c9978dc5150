/**
 * `lightsout events prune`: deletes the events past the retention (the config's,
 * 400 days by default, or --older-than), keeps the rest, and leaves savings over
 * the deleted time exactly as they were; refuses a retention under a day.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../src/store/queries/events.js';
import { openStore } from '../../src/store/store.js';
import { cli, configFile } from './run.js';

const config = (extra = '') =>
  configFile(`
timezone: UTC
schedules:
  office-hours:
    periods: [{ days: mon-fri, start: "08:00", stop: "19:00" }]
environments:
  dev:
    schedule: office-hours
    select: { provider: sandbox, tags: { env: dev } }
    savings: { hourly: 0.5 }
${extra}`);

const WEB = 'sandbox:ec2:dev-web';
const at = (iso: string) => Date.parse(iso);
const NOW = '2026-06-03T00:00Z';

const finished = (iso: string, direction: string): EventInput => ({
  at: at(iso),
  actor: 'lightsout',
  kind: 'run.finished',
  environment: 'dev',
  payload: { direction, resources: [{ resource: WEB, status: 'done' }] },
});

/** A night off 500 days ago, a hold then, and a night off last week. */
async function store(configText = config()) {
  const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-prune-')), 'lightsout.db')}`;
  const s = await openStore(url);
  await s.appendEvents([
    finished('2025-01-20T19:00Z', 'stop'),
    finished('2025-01-21T08:00Z', 'start'),
    { at: at('2025-01-21T09:00Z'), actor: 'jane', kind: 'hold.created', environment: 'dev' },
    finished('2026-05-27T19:00Z', 'stop'),
    finished('2026-05-28T08:00Z', 'start'),
  ]);
  await s.close();
  return ['--config', configText, '--db', url];
}

const run = (args: string[]) => cli(args, at(NOW));

async function savedIn(db: string[], from: string, to: string) {
  const result = await run(['savings', '--from', from, '--to', to, '--json', ...db]);
  expect(result.code, result.err).toBe(0);
  return (JSON.parse(result.out) as { totals: { hoursSaved: number; money: number } }).totals;
}

/** When each event left in the store was recorded. */
async function recorded(db: string[]) {
  const result = await run(['events', '--json', ...db]);
  expect(result.code, result.err).toBe(0);
  return (JSON.parse(result.out) as { events: { at: string }[] }).events.map((e) => e.at);
}

describe('lightsout events prune', () => {
  it('deletes the events older than 400 days and keeps the savings they made', async () => {
    const db = await store();
    const before = await savedIn(db, '2025-01-01T00:00Z', '2025-02-01T00:00Z');
    expect(before).toMatchObject({ hoursSaved: 13, money: 6.5 });

    const result = await run(['events', 'prune', '--json', ...db]);
    expect(result.code, result.err).toBe(0);
    expect(JSON.parse(result.out)).toEqual({
      deleted: 3,
      before: '2025-04-29T00:00:00.000Z',
      olderThan: '400 days',
    });
    expect(await recorded(db)).toEqual(['2026-05-27T19:00:00.000Z', '2026-05-28T08:00:00.000Z']);
    expect(await savedIn(db, '2025-01-01T00:00Z', '2025-02-01T00:00Z')).toEqual(before);

    const again = await run(['events', 'prune', ...db]);
    expect(again.out).toContain('nothing deleted');
  });

  it('prunes with --older-than instead of the config, and with the retention the config sets', async () => {
    const db = await store();
    const week = await run(['events', 'prune', '--older-than', '3d', ...db]);
    expect(week.code, week.err).toBe(0);
    expect(week.out).toMatch(/^deleted 5 events recorded before 2026-05-31T00:00:00\.000Z/);

    const configured = await store(config('retention: 10d'));
    expect((await run(['events', 'prune', ...configured])).out).toMatch(/^deleted 3 events/);
  });

  it('keeps everything when the config says forever', async () => {
    const db = await store(config('retention: forever'));
    const result = await run(['events', 'prune', ...db]);
    expect(result.code).toBe(0);
    expect(result.out).toContain('retention is forever');
    expect(await recorded(db)).toHaveLength(5);
  });

  it('refuses a retention under a day, in the config and on the command line', async () => {
    const db = await store();
    const flag = await run(['events', 'prune', '--older-than', '2h', ...db]);
    expect(flag.code).toBe(2);
    expect(flag.err).toContain('--older-than "2h" is not a duration of a day or more');
    const bad = await run(['events', 'prune', ...(await store(config('retention: 1h')))]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/retention.*at least 1d/);
    expect(await recorded(db)).toHaveLength(5);
  });
});
