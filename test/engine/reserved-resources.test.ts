/**
 * Resources reserved alone (`POST /provision` reserves one EC2 instance): they
 * follow their own reservations where those differ from their environment's plan,
 * and nothing else in the environment moves.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { periodSchedule } from '../core/build.js';
import { DATABASES } from '../store/databases.js';
import { harness } from './harness.js';

const officeHours = {
  ...periodSchedule('UTC', [{ days: 'mon-fri', start: '08:00', stop: '18:00' }]),
  name: 'office-hours',
};

const dev = (extra: Partial<Environment> = {}): Environment => ({
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  graceMs: 15 * 60_000,
  tiers: [
    { name: 'data', select: [{ provider: 'sandbox', kinds: ['rds'], tags: { env: 'dev' } }] },
    { name: 'apps', select: [{ provider: 'sandbox', kinds: ['ec2'], tags: { env: 'dev' } }] },
  ],
  ...extra,
});

const seeds = [
  { kind: 'rds' as const, name: 'dev-db', tags: { env: 'dev' } },
  { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } },
  { kind: 'ec2' as const, name: 'dev-batch', tags: { env: 'dev' } },
];

describe.each(DATABASES)('resources reserved alone, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  // Monday 1 June 2026, everything on at 17:00.
  async function setup(environment = dev()) {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [environment],
      seeds,
      start: '2026-06-01T17:00Z',
    });
    const idOf = async (name: string) =>
      (await h.sandbox.discover({ provider: 'sandbox' })).find((r) => r.name === name)!.id;
    const reserveAlone = async (name: string, from: string, to: string) =>
      h.engine.reserve('dev', at(from), at(to), 'alice', undefined, await idOf(name));
    const runs = async () =>
      (await store!.listRuns({ environment: 'dev' })).reverse().map((r) => ({
        direction: r.direction,
        due: new Date(r.due_at).toISOString(),
        trigger: r.trigger,
        status: r.status,
        scope: r.scope === null ? 'all' : (JSON.parse(r.scope) as string[]).length,
      }));
    return { ...h, idOf, reserveAlone, runs };
  }

  it('start alone while the environment is off, and stop alone, warned, when their reservation ends', async () => {
    const h = await setup();
    await h.reserveAlone('dev-web', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    for (const time of ['17:00', '17:45', '18:00', '18:30']) await h.tickAt(`2026-06-01T${time}Z`);
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'off', 'dev-batch': 'off' });
    await h.tickAt('2026-06-01T19:00Z');
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'on', 'dev-batch': 'off' });
    h.notifier.notices.length = 0;
    await h.tickAt('2026-06-01T20:45Z');
    expect(h.notifier.notices[0]?.text).toContain(
      `${await h.idOf('dev-web')} (in dev) stops at 21:00 UTC`,
    );
    await h.tickAt('2026-06-01T21:00Z');
    await h.tickAt('2026-06-01T22:00Z');
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'off', 'dev-batch': 'off' });
    expect((await h.runs()).slice(-2)).toEqual([
      {
        direction: 'start',
        due: '2026-06-01T19:00:00.000Z',
        trigger: 'reservation',
        status: 'succeeded',
        scope: 1,
      },
      {
        direction: 'stop',
        due: '2026-06-01T21:00:00.000Z',
        trigger: 'reservation',
        status: 'succeeded',
        scope: 1,
      },
    ]);
  });

  it('stay on through the environment stop while reserved, which is recorded, then stop alone', async () => {
    const h = await setup();
    await h.reserveAlone('dev-web', '2026-06-01T16:00Z', '2026-06-01T20:00Z');
    for (const time of ['17:00', '17:45', '18:00']) await h.tickAt(`2026-06-01T${time}Z`);
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'on', 'dev-batch': 'off' });
    const kept = await store!.queryEvents({ kind: 'resource.kept-on' });
    expect(kept.events.map((e) => e.payload)).toEqual([
      { resources: [await h.idOf('dev-web')], reason: 'reserved' },
    ]);
    for (const time of ['19:45', '20:00', '20:30']) await h.tickAt(`2026-06-01T${time}Z`);
    expect((await h.states())['dev-web']).toBe('off');
    expect((await h.runs()).map((r) => [r.direction, r.due, r.trigger, r.scope])).toEqual([
      ['stop', '2026-06-01T18:00:00.000Z', 'schedule', 'all'],
      ['stop', '2026-06-01T20:00:00.000Z', 'reservation', 1],
    ]);
  });

  it('group resources whose reservations begin together into one run', async () => {
    const h = await setup();
    await h.reserveAlone('dev-web', '2026-06-01T19:00Z', '2026-06-01T20:00Z');
    await h.reserveAlone('dev-db', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    for (const time of ['17:00', '17:45', '18:00', '19:00']) await h.tickAt(`2026-06-01T${time}Z`);
    expect(await h.states()).toEqual({ 'dev-db': 'on', 'dev-web': 'on', 'dev-batch': 'off' });
    expect((await h.runs()).at(-1)).toMatchObject({
      direction: 'start',
      trigger: 'reservation',
      scope: 2,
    });
  });

  it('are started at the next pass when reserved after their reservation began', async () => {
    const h = await setup();
    for (const time of ['17:00', '17:45', '18:00']) await h.tickAt(`2026-06-01T${time}Z`);
    await h.tickAt('2026-06-01T19:30Z');
    await h.reserveAlone('dev-web', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    await h.tickAt('2026-06-01T19:31Z');
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'on', 'dev-batch': 'off' });
    await h.tickAt('2026-06-01T19:40Z');
    expect((await h.runs()).filter((r) => r.trigger === 'reservation')).toHaveLength(1);
  });

  it("cancelling their stop keeps only them on, until the schedule's next stop", async () => {
    const h = await setup();
    await h.reserveAlone('dev-web', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    for (const time of ['17:00', '17:45', '18:00', '19:00', '20:45'])
      await h.tickAt(`2026-06-01T${time}Z`);
    const [warned] = await store!.listRuns({ environment: 'dev', status: 'grace' });
    const { holdUntil } = await h.engine.cancel(warned!.id, 'bob');
    expect(new Date(holdUntil).toISOString()).toBe('2026-06-02T18:00:00.000Z');
    for (const time of ['21:00', '23:00']) await h.tickAt(`2026-06-01T${time}Z`);
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'on', 'dev-batch': 'off' });
    expect(await store!.listHolds(['dev'], at('2026-06-01T21:00Z'))).toEqual([]);
  });

  it('give way to a stop someone asks for: the whole environment goes off', async () => {
    const h = await setup();
    await h.reserveAlone('dev-web', '2026-06-01T16:00Z', '2026-06-01T20:00Z');
    await h.tickAt('2026-06-01T17:00Z');
    await h.engine.command('dev', 'stop', 'carol', 0);
    await h.tickAt('2026-06-01T17:01Z');
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'off', 'dev-batch': 'off' });
  });

  it('are not taken for drift in enforce mode', async () => {
    const h = await setup(dev({ mode: 'enforce' }));
    await h.reserveAlone('dev-web', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    for (const time of ['17:00', '17:45', '18:00', '19:00', '19:05', '19:10'])
      await h.tickAt(`2026-06-01T${time}Z`);
    expect((await h.states())['dev-web']).toBe('on');
    expect((await store!.queryEvents({ kind: 'drift.detected' })).events).toEqual([]);
  });

  it('one of two resources reserved longer during their stop warning stays on; the other stops', async () => {
    const h = await setup();
    await h.reserveAlone('dev-web', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    await h.reserveAlone('dev-batch', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    for (const time of ['17:00', '17:45', '18:00', '19:00', '20:45'])
      await h.tickAt(`2026-06-01T${time}Z`);
    await h.reserveAlone('dev-web', '2026-06-01T20:50Z', '2026-06-01T23:00Z');
    for (const time of ['20:50', '21:00', '21:30', '22:00']) await h.tickAt(`2026-06-01T${time}Z`);
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'on', 'dev-batch': 'off' });
    await h.tickAt('2026-06-01T22:45Z');
    await h.tickAt('2026-06-01T23:00Z');
    expect((await h.states())['dev-web']).toBe('off');
  });

  it('a resource reserved to the same end after the stop warning gets one run of its own, not one per pass', async () => {
    const h = await setup();
    await h.reserveAlone('dev-web', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    for (const time of ['17:00', '17:45', '18:00', '19:00', '20:45'])
      await h.tickAt(`2026-06-01T${time}Z`);
    await h.reserveAlone('dev-batch', '2026-06-01T20:46Z', '2026-06-01T21:00Z');
    h.notifier.notices.length = 0;
    for (const time of ['20:46', '20:47', '20:48', '20:50', '20:55'])
      await h.tickAt(`2026-06-01T${time}Z`);
    const stops = (await h.runs()).filter(
      (r) => r.direction === 'stop' && r.trigger === 'reservation',
    );
    expect(stops.map((r) => [r.due, r.scope])).toEqual([
      ['2026-06-01T21:00:00.000Z', 1],
      ['2026-06-01T21:00:00.000Z', 1],
    ]);
    expect(h.notifier.notices.filter((n) => n.kind === 'stop-warning')).toHaveLength(1);
    await h.tickAt('2026-06-01T21:00Z');
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'off', 'dev-batch': 'off' });
  });

  it('many runs for reserved resources never hide the environment intent', async () => {
    store = await database.open();
    const many = Array.from({ length: 12 }, (_, i) => ({
      kind: 'ec2' as const,
      name: `web-${i}`,
      tags: { env: 'dev' },
    }));
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev()],
      seeds: [...seeds, ...many],
      start: '2026-06-01T17:00Z',
    });
    for (const time of ['17:00', '17:45', '18:00']) await h.tickAt(`2026-06-01T${time}Z`);
    const webs = (await h.sandbox.discover({ provider: 'sandbox' })).filter((r) =>
      r.name.startsWith('web-'),
    );
    for (const [i, r] of webs.entries()) {
      const from = at('2026-06-01T19:00Z') + i * 60_000;
      await h.engine.reserve('dev', from, from + 3_600_000, 'alice', undefined, r.id);
    }
    for (let minute = 0; minute <= 75; minute += 1)
      await h.tickAt(new Date(at('2026-06-01T18:59Z') + minute * 60_000).toISOString());
    expect((await store.listRuns({ environment: 'dev', limit: 100 })).length).toBeGreaterThan(20);
    const missed = async () =>
      (await store!.queryEvents({ kind: 'transition.missed' }, { limit: 1_000 })).events.length;
    const before = await missed();
    for (const time of ['21:01', '21:02', '21:03']) await h.tickAt(`2026-06-01T${time}Z`);
    expect(await missed()).toBe(before);
  });

  it('the end of a reservation is not drift in enforce mode, even before its stop acts', async () => {
    const h = await setup(dev({ mode: 'enforce' }));
    await h.reserveAlone('dev-web', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    for (const time of ['17:00', '17:45', '18:00', '19:00', '20:45', '21:00:00.010', '21:05'])
      await h.tickAt(`2026-06-01T${time}Z`);
    expect((await store!.queryEvents({ kind: 'drift.detected' })).events).toEqual([]);
    expect((await h.states())['dev-web']).toBe('off');
  });

  it('a resource reserved alone whose start failed is tried again, with backoff, until it is on', async () => {
    const h = await setup();
    for (const time of ['17:00', '17:45', '18:00']) await h.tickAt(`2026-06-01T${time}Z`);
    h.sandbox.inject('dev-web', { kind: 'fail', reason: 'InsufficientInstanceCapacity' });
    await h.reserveAlone('dev-web', '2026-06-01T19:00Z', '2026-06-01T21:00Z');
    await h.tickAt('2026-06-01T19:00Z');
    expect((await h.states())['dev-web']).toBe('off');
    const [retry] = (await store!.queryEvents({ kind: 'run.retry-scheduled' })).events;
    h.sandbox.inject('dev-web', undefined);
    await h.tickAt(String(retry?.payload.retryAt));
    expect((await h.states())['dev-web']).toBe('on');
    expect((await h.runs()).slice(-2).map((r) => [r.direction, r.trigger, r.status])).toEqual([
      ['start', 'reservation', 'failed'],
      ['start', 'reservation', 'succeeded'],
    ]);
  });
});
