/**
 * What the engine records for each notice, through real runs on both databases:
 * the warning (zone and UTC, kinds, why and by whom), the run report (every
 * resource, the provider's reason), the failure alert for a failed run, and the
 * alert for a database that started by itself while off (once per restart).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Notice, Provider } from '../../src/engine/ports.js';
import { CommandProvider } from '../../src/providers/command/command.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import { officeHours } from './fixtures.js';
import { harness } from './harness.js';

const dev: Environment = {
  name: 'dev',
  timezone: 'Europe/Paris',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  notify: ['chat'],
  tiers: [
    { name: 'data', select: [{ provider: 'sandbox', kinds: ['rds'], tags: { env: 'dev' } }] },
    { name: 'apps', select: [{ provider: 'sandbox', kinds: ['ec2'], tags: { env: 'dev' } }] },
  ],
};

const seeds = [
  { kind: 'rds' as const, name: 'dev-db', tags: { env: 'dev' } },
  { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } },
  { kind: 'ec2' as const, name: 'dev-api', tags: { env: 'dev' } },
];

describe.each(DATABASES)('what notices say, on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  async function setup(start = '2026-06-01T07:00Z') {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev],
      seeds,
      start,
    });
    /** What the channel "chat" was sent, of one kind. */
    const sent = (kind: Notice['kind']) =>
      h.notifier.notices.filter((n) => n.kind === kind && n.channel === 'chat');
    return { ...h, sent };
  }

  it('a scheduled stop warns with its time in the zone and UTC, its kinds and its schedule; its report lists every resource', async () => {
    const h = await setup();
    // The morning start discovers the fleet: the evening's warning can count it.
    for (const t of ['07:00', '08:00', '17:45']) await h.tickAt(`2026-06-01T${t}Z`);
    const [warning] = h.sent('stop-warning');
    expect(warning?.text).toBe(
      'dev stops at 20:00 Europe/Paris (18:00 UTC): 2 EC2 instances, 1 RDS database. Why: schedule "office-hours".',
    );
    expect(warning?.team).toBe('payments');
    expect(warning?.details).toMatchObject({
      when: '20:00 Europe/Paris (18:00 UTC)',
      kinds: { ec2: 2, rds: 1 },
      why: 'schedule "office-hours"',
      cancel: { api: `POST /api/v1/runs/${warning!.runId}/cancel` },
    });
    await h.tickAt('2026-06-01T18:00Z');
    const report = h.sent('run-summary').at(-1);
    expect(report?.text).toBe('dev: stop succeeded (3 resources)');
    expect(report?.details).toMatchObject({ outcome: 'succeeded', total: 3, more: 0 });
    const rows = report?.details?.['resources'] as { resource: string; kind: string }[];
    expect(rows.map((r) => [r.resource, r.kind]).sort()).toEqual([
      ['sandbox:ec2:dev-api', 'ec2'],
      ['sandbox:ec2:dev-web', 'ec2'],
      ['sandbox:rds:dev-db', 'rds'],
    ]);
    expect(h.sent('run-failed')).toEqual([]);
  });

  it('an ad-hoc stop says who asked; the end of a reservation says who made it', async () => {
    const h = await setup('2026-06-01T17:00Z');
    await h.tickAt('2026-06-01T17:00Z');
    h.clock.set(at('2026-06-01T10:00Z'));
    await h.tickAt('2026-06-01T10:00Z');
    const stop = await h.engine.command('dev', 'stop', 'api:bob', 10 * 60_000);
    await h.tickAt('2026-06-01T10:00:01Z');
    expect(h.sent('stop-warning').find((n) => n.runId === stop.id)?.text).toContain(
      'Why: ad-hoc stop by api:bob.',
    );
    await h.tickAt('2026-06-01T10:10Z');
    h.notifier.notices.length = 0;
    await h.engine.reserve('dev', at('2026-06-01T19:00Z'), at('2026-06-01T21:00Z'), 'api:alice');
    for (const t of ['19:00', '20:45']) await h.tickAt(`2026-06-01T${t}Z`);
    expect(h.sent('stop-warning').map((n) => n.text)).toEqual([
      'dev stops at 23:00 Europe/Paris (21:00 UTC): 2 EC2 instances, 1 RDS database. Why: the end of a reservation by api:alice.',
    ]);
  });

  it('a failed run alerts at once, with the provider reason; its report shows the reason too', async () => {
    const h = await setup();
    for (const t of ['07:00', '08:00', '17:45']) await h.tickAt(`2026-06-01T${t}Z`);
    h.sandbox.inject('dev-web', {
      kind: 'fail',
      reason:
        'IncorrectInstanceState: The instance i-0abc is not in a state from which it can be stopped.',
    });
    await h.tickAt('2026-06-01T18:00Z');
    const [alert] = h.sent('run-failed');
    // The apps tier failed, so the data tier halts: the database was not stopped either.
    expect(alert?.text).toBe('dev: stop failed: 2 of 3 resources did not reach off');
    expect(alert?.details).toMatchObject({
      failed: 2,
      total: 3,
      resources: [
        {
          resource: 'sandbox:ec2:dev-web',
          kind: 'ec2',
          tier: 'apps',
          status: 'failed',
          error:
            'IncorrectInstanceState: The instance i-0abc is not in a state from which it can be stopped.',
        },
        {
          resource: 'sandbox:rds:dev-db',
          kind: 'rds',
          status: 'skipped',
          error: 'an earlier tier failed',
        },
      ],
    });
    expect(alert?.details?.['retryAt']).toEqual(expect.any(String));
    const report = h.sent('run-summary').at(-1);
    // Failures first, whatever the order the run went in.
    expect((report?.details?.['resources'] as { status: string }[])[0]?.status).toBe('failed');
    expect(report?.text).toContain('IncorrectInstanceState');
  });

  it("a command's secret is masked in the report and the alert: no notice carries it", async () => {
    const secret = 'tok-7f3a9c1e5b';
    store = await database.open();
    const box: Environment = {
      name: 'lab',
      timezone: 'UTC',
      schedule: 'office-hours',
      notify: ['chat'],
      tiers: [
        {
          name: 'hosts',
          select: [
            {
              provider: 'command',
              kinds: ['command'],
              settings: {
                targets: {
                  box: {
                    start: 'true',
                    stop: 'echo "refused with token=$API_TOKEN" >&2; exit 3',
                    shell: true,
                    timeoutMs: 5_000,
                    env: { API_TOKEN: secret },
                  },
                },
              },
            },
          ],
        },
      ],
    };
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [box],
      seeds: [],
      start: '2026-06-01T07:00Z',
      providers: new Map<string, Provider>([['command', new CommandProvider()]]),
    });
    for (const t of ['07:00', '08:00', '17:45', '18:00']) await h.tickAt(`2026-06-01T${t}Z`);
    const alert = h.notifier.notices.find((n) => n.kind === 'run-failed' && n.channel === 'chat');
    expect(alert?.details?.['resources']).toMatchObject([
      {
        resource: 'command:box',
        kind: 'command',
        error: 'stop command exited with 3: refused with token=***',
      },
    ]);
    expect(h.notifier.notices.map((n) => n.kind)).toEqual(
      expect.arrayContaining(['stop-warning', 'run-summary', 'run-failed']),
    );
    for (const notice of h.notifier.notices) expect(JSON.stringify(notice)).not.toContain(secret);
  });

  it('a database that started by itself while off is alerted once per restart, not once per pass', async () => {
    const h = await setup('2026-06-05T07:00Z'); // a Friday
    const watching = h.makeEngine('test', undefined, { watchMs: 60_000 });
    for (const t of ['07:00', '08:00', '17:45', '18:00'])
      await h.tickAt(`2026-06-05T${t}Z`, watching);
    expect(await h.states()).toEqual({ 'dev-db': 'off', 'dev-web': 'off', 'dev-api': 'off' });
    await h.sandbox.setStateByHand('dev-db', 'on'); // AWS, after 7 days stopped
    for (const t of ['10:00', '10:05', '10:10', '10:20'])
      await h.tickAt(`2026-06-06T${t}Z`, watching);
    const alerts = h.sent('resource-restarted');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.text).toBe(
      'dev: 1 RDS database started by itself while off (sandbox:rds:dev-db); lightsout stops it again now',
    );
    expect(await h.states()).toMatchObject({ 'dev-db': 'off' });
    // A second restart is a second alert.
    await h.sandbox.setStateByHand('dev-db', 'on');
    for (const t of ['11:00', '11:05']) await h.tickAt(`2026-06-06T${t}Z`, watching);
    expect(h.sent('resource-restarted')).toHaveLength(2);
    // The alert goes to the log as well as to the environment's channel, at once.
    expect(
      h.notifier.notices.filter((n) => n.kind === 'resource-restarted' && n.channel === undefined),
    ).toHaveLength(2);
  });
});
