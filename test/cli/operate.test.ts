import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/store.js';
import { writeClockAnchor } from '../../src/app/stored-clock.js';
import { DATABASES } from '../store/databases.js';
import { cli, configFile } from './run.js';

const CONFIG = configFile(`
timezone: Europe/Paris
schedules:
  office-hours:
    periods: [{ days: mon-fri, start: "08:00", stop: "18:00" }]
environments:
  dev:
    schedule: office-hours
    team: payments
    grace: 10m
    select: { provider: sandbox, tags: { env: dev } }
sandbox:
  resources:
    - { kind: ec2, name: dev-web, tags: { env: dev } }
`);

/** `--config` and `--db` of a new store, created as `serve` creates it (commands refuse a store that is not there). */
async function store() {
  const url = `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-cli-')), 'lightsout.db')}`;
  await (await openStore(url)).close();
  return ['--config', CONFIG, '--db', url];
}

/** The binary the printed command lines name. */
const BINARY = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

// Monday 1 June 2026, 14:00 in Paris.
const NOW = Date.parse('2026-06-01T12:00:00Z');
const run = (args: string[]) => cli(args, NOW);

describe('commands against the store', () => {
  it('reserve records a reservation in the environment zone and an event with its actor', async () => {
    const db = await store();
    const result = await run([
      'reserve',
      'dev',
      '--from',
      '2026-06-06T09:00',
      '--to',
      '2026-06-06T12:00',
      ...db,
    ]);
    expect(result).toMatchObject({
      code: 0,
      out: 'reserved dev from 2026-06-06T07:00:00.000Z to 2026-06-06T10:00:00.000Z',
    });
    const events = JSON.parse(
      (await run(['events', '--kind', 'reservation.created', '--json', ...db])).out,
    ) as {
      events: { actor: string; environment: string }[];
    };
    expect(events.events).toEqual([
      expect.objectContaining({
        schema: 2,
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
        environment: 'dev',
        actor: expect.stringMatching(/^cli/) as unknown,
      }),
    ]);
  });

  it('reserve --resource reserves one discovered resource alone', async () => {
    const db = await store();
    const url = db[3]!;
    const opened = await openStore(url);
    await opened.upsertResources(
      'dev',
      [{ id: 'sandbox:ec2:dev-web', provider: 'sandbox', kind: 'ec2', name: 'dev-web', tags: {} }],
      NOW,
    );
    await opened.close();
    const args = ['--from', '2026-06-06T09:00', '--to', '2026-06-06T12:00', ...db];
    const result = await run(['reserve', 'dev', '--resource', 'sandbox:ec2:dev-web', ...args]);
    expect(result).toMatchObject({
      code: 0,
      out: 'reserved sandbox:ec2:dev-web from 2026-06-06T07:00:00.000Z to 2026-06-06T10:00:00.000Z',
    });
    const reopened = await openStore(url);
    expect(await reopened.listReservations({ environments: ['dev'] })).toEqual([
      expect.objectContaining({ resource: 'sandbox:ec2:dev-web' }),
    ]);
    await reopened.close();
  });

  it('stop warns and creates a run in grace; cancel keeps the environment on; status shows it', async () => {
    const db = await store();
    const stop = await run(['stop', 'dev', '--grace', '5m', ...db]);
    expect(stop.code).toBe(0);
    expect(stop.out).toContain('dev stops at 14:05 Europe/Paris (12:05 UTC): ');
    expect(stop.out).toContain('Why: ad-hoc stop by ');
    const runId = /run (\S+): stop dev/.exec(stop.out)?.[1];
    // The person sees the warning; sending it to the team is the serving process's job.
    const opened = await openStore(db[3]!);
    expect((await opened.listNotices(runId!)).map((n) => [n.kind, n.status])).toEqual([
      ['stop-warning', 'pending'],
    ]);
    await opened.close();
    const runs = await run(['runs', ...db]);
    expect(runs.out).toMatch(new RegExp(`${runId!}\\s+dev\\s+stop\\s+adhoc\\s+grace`));
    const cancel = await run(['cancel', runId!, ...db]);
    // A daytime stop called off: on until the evening's scheduled stop, not the next morning.
    expect(cancel.out).toBe(`cancelled run ${runId!}; dev stays on until 2026-06-01T16:00:00.000Z`);
    const status = JSON.parse((await run(['status', '--json', ...db])).out) as {
      environments: unknown[];
    };
    expect(status.environments[0]).toMatchObject({
      environment: 'dev',
      desired: 'on',
      lastRun: { direction: 'stop', status: 'cancelled' },
      holds: [{ state: 'on', until: '2026-06-01T16:00:00.000Z' }],
    });
  });

  it.each([
    [
      ['reserve', 'prod', '--from', '2026-06-06T09:00', '--to', '2026-06-06T12:00'],
      'there is no environment "prod"; known: dev',
    ],
    [
      ['reserve', 'dev', '--from', '2026-06-06T12:00', '--to', '2026-06-06T09:00'],
      'the reservation ends (2026-06-06T07:00:00.000Z) at or before it starts',
    ],
    [
      ['reserve', 'dev', '--from', '2026-05-01T09:00', '--to', '2026-05-01T12:00'],
      'in the past; give a window that is not over',
    ],
    [
      ['reserve', 'dev', '--from', 'noon', '--to', '2026-06-06T09:00'],
      '--from "noon" is not a date and time',
    ],
    [
      [
        'reserve',
        'dev',
        '--from',
        '2026-06-06T09:00',
        '--to',
        '2026-06-06T12:00',
        '--resource',
        'sandbox:ec2:nope',
      ],
      'dev manages no resource "sandbox:ec2:nope"',
    ],
    [
      ['events', '--since', '2026-06-01T09:00'],
      '--since "2026-06-01T09:00" has no time zone; add Z or an offset',
    ],
    [['events', '--after', 'nonsense'], '"nonsense" is not a cursor from a previous page'],
    [['extend', 'dev', '--until', '2026-06-01T08:00'], 'is in the past; give a later time'],
    [['stop', 'dev', '--grace', 'soon'], '--grace: "soon" is not a duration'],
    [['stop', 'dev', '--grace', '99999999d'], '--grace: at most 24h'],
    [['cancel', 'no-such-run'], 'there is no run "no-such-run"'],
  ])('%j is refused with exit code 2', async (args, message) => {
    const result = await run([...args, ...(await store())]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it('a malformed --db is refused with exit code 2 and no password', async () => {
    const result = await run(['status', '--config', CONFIG, '--db', 'postgres://u:topsecret@']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('is not a valid PostgreSQL URL');
    expect(result.err).not.toContain('topsecret');
  });

  it.each([['abc'], ['-1'], ['0'], ['5000']])(
    '--limit %s is refused with exit code 2',
    async (limit) => {
      const result = await run(['runs', '--limit', limit, ...(await store())]);
      expect(result.code).toBe(2);
      expect(result.err).toContain(
        `--limit "${limit}" is not a count; give a whole number from 1 to 1000`,
      );
    },
  );

  it.each([
    [['status']],
    [['runs']],
    [['events']],
    [['stop', 'dev']],
    [['extend', 'dev', '--until', '2026-06-01T20:00Z']],
    [['hold', 'list']],
    [['token', 'list']],
  ])(
    '%j on a store that is not there refuses, says how to start one, and creates nothing',
    async (args) => {
      const file = join(mkdtempSync(join(tmpdir(), 'lightsout-cli-')), 'typo.db');
      const result = await run([...args, '--config', CONFIG, '--db', `sqlite:${file}`]);
      expect(result).toEqual({
        code: 2,
        out: '',
        err: `error: no store at ${file}; start one with: node ${BINARY} serve --config ${CONFIG} --db sqlite:${file} (or pass --db)`,
      });
      expect(existsSync(file)).toBe(false);
    },
  );

  it('token create makes the store when there is none: the first token comes before the first serve', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lightsout-cli-')), 'new.db');
    const db = ['--config', CONFIG, '--db', `sqlite:${file}`];
    const created = await run(['token', 'create', '--name', 'ops', '--role', 'admin', ...db]);
    expect(created.code).toBe(0);
    expect((await run(['token', 'list', ...db])).out).toContain('ops');
  });

  it('stop --until holds the environment off until then, says so, and hold delete lifts it', async () => {
    const db = await store();
    const stop = await run(['stop', 'dev', '--grace', '5m', '--until', '2026-06-03T08:00', ...db]);
    expect(stop.code).toBe(0);
    const holdId = /hold delete (\S+)/.exec(stop.out)?.[1];
    expect(stop.out.split('\n').at(-1)).toBe(
      `dev held off until 2026-06-03 08:00 Europe/Paris (06:00 UTC); lift with: node ${BINARY} hold delete ${holdId!} --config ${CONFIG} --db ${db[3]!}`,
    );
    const listed = await run(['hold', 'list', '--json', ...db]);
    expect(JSON.parse(listed.out)).toEqual({
      holds: [
        expect.objectContaining({
          id: holdId,
          environment: 'dev',
          state: 'off',
          until: '2026-06-03T06:00:00.000Z',
        }),
      ],
    });
    expect(await run(['hold', 'delete', holdId!, ...db])).toMatchObject({
      code: 0,
      out: `deleted hold ${holdId!}: dev is no longer held off`,
    });
    expect(JSON.parse((await run(['hold', 'list', '--json', ...db])).out)).toEqual({ holds: [] });
  });

  it('start --until takes a time from now, such as +2h', async () => {
    const db = await store();
    const start = await run(['start', 'dev', '--until', '+2h', '--json', ...db]);
    expect(JSON.parse(start.out)).toMatchObject({
      actAt: '2026-06-01T12:00:00.000Z',
      hold: { until: '2026-06-01T14:00:00.000Z' },
    });
  });

  it('stop without --until prints the hold it made, to the next change of plan', async () => {
    const db = await store();
    const stop = await run(['stop', 'dev', '--grace', '5m', ...db]);
    // Office hours end at 18:00 Paris: the next change after the stop.
    expect(stop.out).toContain('dev held off until 2026-06-01 18:00 Europe/Paris (16:00 UTC)');
    expect(stop.out).toContain(`cancel with: node ${BINARY} cancel `);
  });

  it.each([
    [['stop', 'dev', '--until', 'tomorrow'], '--until "tomorrow" is not a date and time'],
    [['stop', 'dev', '--until', '+soon'], '--until "+soon" is not a time from now'],
    [
      ['stop', 'dev', '--grace', '30m', '--until', '+10m'],
      'is not after the action at 2026-06-01T12:30:00.000Z',
    ],
  ])('%j is refused with exit code 2', async (args, message) => {
    const result = await run([...args, ...(await store())]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it('boost creates a boost run until the end of its duration', async () => {
    const db = await store();
    const result = await run(['boost', 'dev', '--for', '30m', ...db]);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^run \S+: boost dev until 2026-06-01T12:30:00.000Z$/);
    const { runs } = JSON.parse((await run(['runs', '--json', ...db])).out) as {
      runs: { direction: string; until_at: string }[];
    };
    expect(runs).toMatchObject([
      { direction: 'boost', until_at: '2026-06-01T12:30:00.000Z', finished_at: null },
    ]);
  });

  it.each([
    ['--for', 'soon', '--for: "soon" is not a duration'],
    ['--for', '5h', 'dev stops at 2026-06-01T16:00:00.000Z, before the boost would end'],
    // Bounded as the API is: a boost this long would plan years of windows.
    ['--for', '99999999d', '--for: at most 7d'],
  ])('boost %s %s is refused with exit code 2', async (flag, value, message) => {
    const result = await run(['boost', 'dev', flag, value, ...(await store())]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it('token create prints the token once; list and the store never show it; revoke ends it', async () => {
    const db = await store();
    const created = await run([
      'token',
      'create',
      '--name',
      'ci',
      '--role',
      'operator',
      '--team',
      'payments',
      '--expires',
      '90d',
      '--json',
      ...db,
    ]);
    expect(created.code).toBe(0);
    const { token, expiresAt } = JSON.parse(created.out) as { token: string; expiresAt: string };
    expect(token).toMatch(/^lo_[\w-]{43}$/);
    expect(expiresAt).toBe(new Date(NOW + 90 * 86_400_000).toISOString());
    const listed = await run(['token', 'list', ...db]);
    expect(listed.out).toBe('ci\toperator\tpayments\tactive');
    const everything =
      (await run(['token', 'list', '--json', ...db])).out +
      (await run(['events', '--json', ...db])).out;
    expect(everything).not.toContain(token);
    expect((await run(['token', 'create', '--name', 'ci', '--role', 'viewer', ...db])).code).toBe(
      2,
    );
    expect((await run(['token', 'revoke', 'ci', ...db])).out).toBe('revoked token ci');
    expect((await run(['token', 'list', ...db])).out).toBe('ci\toperator\tpayments\trevoked');
  });

  it.each([
    [['--role', 'root'], '--role "root": give one of viewer, operator, admin'],
    [['--role', 'viewer', '--expires', 'never'], '--expires "never": give a duration such as 90d'],
  ])('token create %j is refused with exit code 2', async (args, message) => {
    const result = await run(['token', 'create', '--name', 'x', ...args, ...(await store())]);
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });

  it('a refused command writes nothing', async () => {
    const db = await store();
    await run(['reserve', 'dev', '--from', '2026-06-06T12:00', '--to', '2026-06-06T09:00', ...db]);
    const events = JSON.parse((await run(['events', '--json', ...db])).out) as {
      events: unknown[];
    };
    expect(events.events).toEqual([]);
  });
});

describe.each(DATABASES)("commands read the time of a demo's store, on $name", (database) => {
  // The demo's clock, 60x: anchored at 1 June 12:00 wall time, it read 3 June 08:00 (10:00 Paris).
  const anchor = {
    at: Date.parse('2026-06-03T08:00:00Z'),
    wall: NOW,
    speed: 60,
    running: true,
  };
  const oneMinuteLater = NOW + 60_000; // an hour later on the demo's clock

  async function demoStore(): Promise<string[]> {
    const url = database.url();
    const opened = await openStore(url);
    await writeClockAnchor(opened, anchor);
    await opened.close();
    return ['--config', CONFIG, '--db', url];
  }

  it('status, stop --grace and cancel all act on the demo time', async () => {
    const db = await demoStore();
    const status = JSON.parse((await cli(['status', '--json', ...db], oneMinuteLater)).out) as {
      at: string;
    };
    expect(status.at).toBe('2026-06-03T09:00:00.000Z');
    const stop = await cli(['stop', 'dev', '--grace', '30m', ...db], oneMinuteLater);
    expect(stop.out).toContain('run ');
    expect(stop.out).toContain(': stop dev at 2026-06-03T09:30:00.000Z');
    const runId = /run (\S+): stop dev/.exec(stop.out)![1]!;
    // Ten wall-clock seconds later, ten demo minutes: the stop is still in its grace.
    const cancel = await cli(['cancel', runId, ...db], oneMinuteLater + 10_000);
    expect(cancel).toMatchObject({ code: 0 });
    expect(cancel.out).toContain(`cancelled run ${runId}`);
  });

  it('stop and hold delete print commands that name the store without its password', async () => {
    const db = await demoStore();
    const url = db[3]!;
    const password = url.startsWith('postgres') ? new URL(url).password : '';
    const stop = await cli(['stop', 'dev', ...db], oneMinuteLater);
    expect(stop.out).toContain('cancel with: ');
    expect(stop.out).toContain('lift with: ');
    const missing = await cli(['hold', 'delete', 'nope', ...db], oneMinuteLater);
    expect(missing.err).toContain('list them with: ');
    if (password !== '') {
      for (const printed of [stop.out, missing.err]) {
        expect(printed).not.toContain(`:${password}@`);
        expect(printed).toContain(':***@');
      }
    }
  });

  it('a demo stopped keeps its clock still: commands read the instant it stopped at', async () => {
    const db = await demoStore();
    const opened = await openStore(db[3]!);
    await writeClockAnchor(opened, { ...anchor, running: false });
    await opened.close();
    const status = JSON.parse((await cli(['status', '--json', ...db], NOW + 3_600_000)).out) as {
      at: string;
    };
    expect(status.at).toBe('2026-06-03T08:00:00.000Z');
  });
});
