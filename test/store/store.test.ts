import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DatabaseUrlError, parseDatabaseUrl, redact } from '../../src/store/db.js';
import type { Store } from '../../src/store/store.js';
import { DATABASES } from './databases.js';

describe.each(DATABASES)('the store on $name', (database) => {
  let store: Store | undefined;
  const open = async () => (store = await database.open());
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('is ready once migrated, and migrating again changes nothing', async () => {
    const s = await open();
    expect(await s.isReady()).toBe(true);
    const { migrate } = await import('../../src/store/migrate.js');
    expect((await migrate(s.connection)).results).toEqual([]);
  });

  it('is not ready while a migration has not run', async () => {
    const s = await open();
    const { LATEST_MIGRATION } = await import('../../src/store/migrate.js');
    await sql`delete from kysely_migration where name = ${LATEST_MIGRATION}`.execute(s.db);
    expect(await s.isReady()).toBe(false);
  });

  describe('events', () => {
    it('are appended and read back in order with their payload', async () => {
      const s = await open();
      await s.appendEvents([
        {
          at: 1000,
          actor: 'scheduler',
          kind: 'run.started',
          environment: 'dev',
          runId: 'r1',
          payload: { direction: 'stop' },
        },
        { at: 2000, actor: 'alice', kind: 'reservation.created', environment: 'qa' },
      ]);
      const page = await s.queryEvents({});
      expect(page.events.map((e) => [e.kind, e.actor, e.environment, e.runId, e.payload])).toEqual([
        ['run.started', 'scheduler', 'dev', 'r1', { direction: 'stop' }],
        ['reservation.created', 'alice', 'qa', null, {}],
      ]);
      expect(page.next).toBeUndefined();
    });

    it('are filtered by environment, kind, actor and time range', async () => {
      const s = await open();
      await s.appendEvents(
        Array.from({ length: 20 }, (_, i) => ({
          at: i * 100,
          actor: i % 2 === 0 ? 'scheduler' : 'bob',
          kind: i % 3 === 0 ? 'run.finished' : 'notice.sent',
          environment: i % 4 === 0 ? 'dev' : 'qa',
        })),
      );
      const ats = async (filter: Parameters<Store['queryEvents']>[0]) =>
        (await s.queryEvents(filter)).events.map((e) => e.at);
      expect(await ats({ environment: 'dev' })).toEqual([0, 400, 800, 1200, 1600]);
      expect(await ats({ environment: 'dev', kind: 'run.finished' })).toEqual([0, 1200]);
      expect(await ats({ actor: 'bob', from: 500, to: 1000 })).toEqual([500, 700, 900]);
    });

    it('are paged with a cursor that continues where the last page ended', async () => {
      const s = await open();
      await s.appendEvents(
        Array.from({ length: 25 }, (_, i) => ({ at: i, actor: 'x', kind: 'k' })),
      );
      const first = await s.queryEvents({}, { limit: 10 });
      const second = await s.queryEvents({}, { limit: 10, after: first.next });
      const third = await s.queryEvents({}, { limit: 10, after: second.next });
      expect([first, second, third].flatMap((p) => p.events.map((e) => e.at))).toEqual(
        Array.from({ length: 25 }, (_, i) => i),
      );
      expect(third.next).toBeUndefined();
    });

    it('refuse a cursor that is not one', async () => {
      const s = await open();
      await expect(s.queryEvents({}, { after: 'garbage' })).rejects.toThrow(
        /is not a cursor from a previous page/,
      );
    });
  });

  describe('config sync', () => {
    const snapshot = {
      environments: [
        {
          name: 'dev',
          team: 'payments',
          timezone: 'Europe/Paris',
          schedule: 'office-hours',
          definition: { mode: 'transitions' },
        },
      ],
      reservations: [{ environment: 'dev', from: 1000, to: 2000 }],
      holds: [{ environment: 'dev', state: 'off' as const, until: 5000 }],
    };

    it('replaces config rows and never touches rows made through the API', async () => {
      const s = await open();
      await s.syncConfig(snapshot, 0);
      const apiReservation = await s.addReservation(
        { environment: 'dev', from: 3000, to: 4000, actor: 'alice' },
        10,
      );
      await s.syncConfig(
        { ...snapshot, reservations: [{ environment: 'dev', from: 1500, to: 2500 }] },
        20,
      );
      const { reservations, holds } = await s.activePlans(0);
      expect(reservations.map((r) => [r.source, r.from, r.to]).sort()).toEqual([
        ['api', 3000, 4000],
        ['config', 1500, 2500],
      ]);
      expect(reservations.find((r) => r.source === 'api')?.id).toBe(apiReservation.id);
      expect(holds).toHaveLength(1);
      expect(await s.listEnvironments()).toEqual([snapshot.environments[0]]);
    });

    it("deletes only reservations and holds made through the API, never the config's", async () => {
      const s = await open();
      await s.syncConfig(snapshot, 0);
      const made = await s.addReservation(
        { environment: 'dev', from: 3000, to: 4000, actor: 'alice' },
        10,
      );
      const hold = await s.addHold(
        { environment: 'dev', state: 'on', until: 9000, actor: 'alice' },
        10,
      );
      const { reservations, holds } = await s.activePlans(0);
      const fromConfig = reservations.find((r) => r.source === 'config')!;
      expect(await s.deleteReservation(fromConfig.id)).toBe(false);
      expect(await s.deleteHold(holds.find((h) => h.source === 'config')!.id)).toBe(false);
      expect(await s.deleteReservation(made.id)).toBe(true);
      expect(await s.deleteReservation(made.id)).toBe(false);
      expect(await s.deleteHold(hold.id)).toBe(true);
      const left = await s.activePlans(0);
      expect(left.reservations.map((r) => r.source)).toEqual(['config']);
      expect(left.holds.map((h) => h.source)).toEqual(['config']);
    });

    it('keeps only plans that still matter', async () => {
      const s = await open();
      await s.syncConfig(snapshot, 0);
      expect((await s.activePlans(2000)).reservations).toEqual([]);
      expect((await s.activePlans(2000)).holds).toHaveLength(1);
    });
  });

  describe('runs', () => {
    const run = {
      id: 'run-1',
      environment: 'dev',
      direction: 'stop' as const,
      dueAt: 10_000,
      actAt: 10_000,
      trigger: 'schedule' as const,
      actor: 'scheduler',
    };

    it('are unique by environment, target and applied-state sequence', async () => {
      const s = await open();
      await s.createRun({ ...run, seq: 1 }, 0);
      await expect(s.createRun({ ...run, id: 'run-2', seq: 1 }, 5)).rejects.toThrow();
      await s.createRun({ ...run, id: 'run-3', seq: 2 }, 5);
      await s.createRun({ ...run, id: 'run-4', seq: 1, target: 'sandbox:ec2:web' }, 5);
      expect(await s.listRuns()).toHaveLength(3);
    });

    it('are claimed by one owner at a time, each claim a new fencing epoch', async () => {
      const s = await open();
      await s.createRun(run, 0);
      const a = await s.claimRun('run-1', 'replica-a', 60_000, 100);
      expect(a).toEqual({ owner: 'replica-a', epoch: 1 });
      expect(await s.claimRun('run-1', 'replica-b', 60_000, 200)).toBeUndefined();
      await s.renewLease('run-1', a!, 60_000);
      // The lease runs on the database's clock: expire it there, and replica-b takes over.
      await s.db.updateTable('runs').set({ lease_until: 0 }).where('id', '=', 'run-1').execute();
      const b = await s.claimRun('run-1', 'replica-b', 60_000, 1301);
      expect(b).toEqual({ owner: 'replica-b', epoch: 2 });
      // replica-a's writes are fenced off from now on.
      await expect(s.renewLease('run-1', a!, 60_000)).rejects.toThrow(/held by another replica/);
      await expect(s.advanceRun('run-1', a, 'acting', 10)).rejects.toThrow(/another replica/);
      expect(await s.advanceRun('run-1', b, 'acting', 10)).toBe(true);
    });

    it('are claimed many at once, each run only when its lease is free, each with its own epoch', async () => {
      const s = await open();
      await s.createRun({ ...run, id: 'a', seq: 1 }, 0);
      await s.createRun({ ...run, id: 'b', seq: 2 }, 0);
      await s.createRun({ ...run, id: 'c', environment: 'test', seq: 1 }, 0);
      await s.db.updateTable('runs').set({ lease_epoch: 4 }).where('id', '=', 'b').execute();
      const held = await s.claimRun('c', 'replica-b', 60_000, 100);
      const fences = await s.claimRuns(['a', 'b', 'c', 'missing'], 'replica-a', 60_000, 100);
      expect(Object.fromEntries(fences)).toEqual({
        a: { owner: 'replica-a', epoch: 1 },
        b: { owner: 'replica-a', epoch: 5 },
      });
      // Moving to acting goes by each run's own fence: a stale one changes nothing.
      const started = await s.startActing(
        [
          { id: 'a', fence: fences.get('a')! },
          { id: 'b', fence: { owner: 'replica-a', epoch: 4 } },
          { id: 'c', fence: held! },
        ],
        200,
      );
      expect([...started].sort()).toEqual(['a', 'c']);
      expect((await s.getRun('b'))?.status).toBe('grace');
      expect([...(await s.actingEnvironments(['dev', 'prod']))]).toEqual(['dev']);
    });

    it('end in grace only while in grace', async () => {
      const s = await open();
      await s.createRun(run, 0);
      await s.createRun({ ...run, id: 'run-2', dueAt: 20_000 }, 0);
      expect(await s.advanceRun('run-2', undefined, 'acting', 10)).toBe(true);
      expect(await s.endInGrace('run-2', 'cancelled', 20)).toBe(false);
      expect(await s.endInGrace('run-1', 'cancelled', 20)).toBe(true);
      expect(await s.advanceRun('run-1', undefined, 'acting', 30)).toBe(false);
      expect((await s.getRun('run-1'))?.status).toBe('cancelled');
    });

    it('list due runs and the next act instant', async () => {
      const s = await open();
      await s.createRun(run, 0);
      await s.createRun({ ...run, id: 'later', dueAt: 50_000, actAt: 50_000 }, 0);
      expect((await s.dueRuns(10_000, 'me')).map((r) => [r.id, r.claimable])).toEqual([
        ['run-1', true],
      ]);
      expect(await s.nextActAt(10_000)).toBe(50_000);
    });

    it('record steps once, with attempts and outcomes, only under the lease', async () => {
      const s = await open();
      await s.createRun(run, 0);
      const fence = (await s.claimRun('run-1', 'me', 60_000, 0))!;
      const steps = [
        { tier: 0, resource: 'sandbox:rds:db', action: 'stop' as const },
        { tier: 1, resource: 'sandbox:ec2:web', action: 'stop' as const },
      ];
      await s.ensureSteps('run-1', fence, steps);
      await s.ensureSteps('run-1', fence, steps);
      const recorded = await s.listSteps('run-1');
      expect(recorded).toHaveLength(2);
      await s.startSteps('run-1', fence, [recorded[0]!.id], 100);
      await s.finishStep('run-1', fence, recorded[0]!.id, 'done', 200);
      await s.finishStep(
        'run-1',
        fence,
        recorded[1]!.id,
        'failed',
        200,
        'InsufficientInstanceCapacity',
      );
      expect(
        (await s.listSteps('run-1')).map((x) => [x.resource, x.status, x.attempts, x.error]),
      ).toEqual([
        ['sandbox:rds:db', 'done', 1, null],
        ['sandbox:ec2:web', 'failed', 0, 'InsufficientInstanceCapacity'],
      ]);
      const stale = { owner: 'me', epoch: fence.epoch - 1 };
      await expect(
        s.finishStep('run-1', stale, recorded[0]!.id, 'failed', 300, 'late'),
      ).rejects.toThrow(/another replica/);
      expect((await s.listSteps('run-1'))[0]?.status).toBe('done');
    });
  });

  describe('applied state', () => {
    it('changes by compare-and-set on its sequence: of two writers that saw the same row, one wins', async () => {
      const s = await open();
      const change = {
        environment: 'dev',
        resource: '',
        state: 'on' as const,
        runId: null,
        actor: 'a',
      };
      expect(await s.advanceApplied({ ...change, expectedSeq: undefined }, 0)).toBe(1);
      expect(await s.advanceApplied({ ...change, expectedSeq: undefined }, 0)).toBeUndefined();
      expect(await s.advanceApplied({ ...change, expectedSeq: 1, state: 'off' }, 1)).toBe(2);
      expect(await s.advanceApplied({ ...change, expectedSeq: 1 }, 2)).toBeUndefined();
      expect(await s.getApplied('dev')).toMatchObject({ state: 'off', seq: 2 });
    });

    it('rolls back every write of a transaction that fails', async () => {
      const s = await open();
      await expect(
        s.atomically(async (tx) => {
          await tx.advanceApplied(
            {
              environment: 'dev',
              resource: '',
              expectedSeq: undefined,
              state: 'on',
              runId: null,
              actor: 'a',
            },
            0,
          );
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await s.getApplied('dev')).toBeUndefined();
    });
  });

  describe('restore data', () => {
    it('keeps named pieces per resource, removes one without the others, and finds them by prefix', async () => {
      const s = await open();
      const restore = s.restoreData(() => 1000);
      await restore.save('aws:asg:eu-west-3:1:workers', 'capacity', { min: 1, max: 4, desired: 2 });
      await restore.save('aws:asg:eu-west-3:1:workers', 'alarms', ['high-cpu']);
      await restore.save('aws:stack:eu-west-3:1:dev_app', 'stack', { template: '{}' });
      await restore.save('aws:stack:eu-west-3:1:devXapp', 'other', 1);
      expect(await restore.load('aws:asg:eu-west-3:1:workers', 'capacity')).toEqual({
        min: 1,
        max: 4,
        desired: 2,
      });
      await restore.save('aws:asg:eu-west-3:1:workers', 'capacity', undefined);
      expect(await restore.load('aws:asg:eu-west-3:1:workers', 'capacity')).toBeUndefined();
      expect(await restore.load('aws:asg:eu-west-3:1:workers', 'alarms')).toEqual(['high-cpu']);
      expect(await restore.find('aws:stack:eu-west-3:1:dev_', 'stack')).toEqual([
        { id: 'aws:stack:eu-west-3:1:dev_app', data: { template: '{}' } },
      ]);
      expect(await restore.find('aws:', 'nothing')).toEqual([]);
    });

    it('saves many pieces in one write, across more resources than one statement takes', async () => {
      const s = await open();
      const restore = s.restoreData(() => 1000);
      const ids = Array.from({ length: 1_200 }, (_, i) => `aws:ec2:eu-west-3:1:i-${i}`);
      await restore.save(ids[0]!, 'capacity', 7);
      await restore.saveMany(ids.map((id) => ({ id, key: 'alarms', data: [`${id}-cpu`] })));
      expect(await restore.find('aws:ec2:', 'alarms')).toHaveLength(1_200);
      expect(await restore.load(ids[0]!, 'capacity')).toBe(7);
      expect(await restore.load(ids[1_199]!, 'alarms')).toEqual([`${ids[1_199]}-cpu`]);
    });
  });
});

describe('database URLs', () => {
  it.each([
    ['sqlite:./lightsout.db', 'sqlite', './lightsout.db'],
    ['sqlite:///var/lib/lightsout.db', 'sqlite', '/var/lib/lightsout.db'],
    [
      'postgres://u:p@localhost:5432/lightsout',
      'postgres',
      'postgres://u:p@localhost:5432/lightsout',
    ],
  ])('%s', (url, dialect, location) => {
    expect(parseDatabaseUrl(url)).toEqual({ dialect, location });
  });

  it.each([
    ['sqlite:', /names no file; write sqlite:PATH/],
    ['mysql://u:secret@h/db', /is neither sqlite:PATH nor postgres:\/\//],
    ['postgres://', /is not a valid PostgreSQL URL/],
  ])('refuses %s with the fix', (url, message) => {
    expect(() => parseDatabaseUrl(url)).toThrow(DatabaseUrlError);
    expect(() => parseDatabaseUrl(url)).toThrow(message);
  });

  it('never shows a password', () => {
    expect(redact('postgres://lightsout:s3cret@db:5432/x')).toBe(
      'postgres://lightsout:***@db:5432/x',
    );
    expect(() => parseDatabaseUrl('mysql://u:s3cret@h/db')).toThrow(/mysql:\/\/u:\*\*\*@h\/db/);
    expect(redact('postgres://u:p@ss@host/db')).toBe('postgres://u:***@host/db');
    expect(redact('postgres://u@host/db?password=hunter2&sslmode=require')).toBe(
      'postgres://u@host/db?password=***&sslmode=require',
    );
  });
});
