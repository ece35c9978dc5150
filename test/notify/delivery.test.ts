/**
 * Notices through the engine to real HTTP receivers: each is recorded once per
 * channel of its environment and once for the log, and each channel is retried on
 * its own, so a channel that is down never makes another get a message twice.
 */
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Channel } from '../../src/notify/channel.js';
import { ChannelNotifier } from '../../src/notify/router.js';
import { SlackChannel } from '../../src/notify/slack.js';
import { verifyWebhookSignature, WebhookChannel } from '../../src/notify/webhook.js';
import type { Store } from '../../src/store/store.js';
import { officeHours } from '../engine/fixtures.js';
import { harness } from '../engine/harness.js';
import { DATABASES } from '../store/databases.js';
import { at } from '../helpers.js';
import { httpReceiver } from '../support/http-receiver.js';

const SECRET = 'whsec-test-0123456789';

/** An HTTP receiver that records what it got, answering `status()` at each request. */
const receiver = (status: () => number) =>
  httpReceiver((_request, response) =>
    response.writeHead(status()).end(status() < 300 ? 'ok' : 'down'),
  );

const dev: Environment = {
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  notify: ['hook', 'slack'],
  tiers: [{ name: 'apps', select: [{ provider: 'sandbox', tags: { env: 'dev' } }] }],
};

describe.each(DATABASES)('notices to their channels, on $name', (database) => {
  let store: Store | undefined;
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await store?.close();
    store = undefined;
  });

  it('a stop warning reaches every channel once, signed; a channel that is down is retried alone', async () => {
    const hook = await receiver(() => 200);
    let slackUp = false;
    const slack = await receiver(() => (slackUp ? 200 : 503));
    closers.push(hook.close, slack.close);
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev],
      seeds: [{ kind: 'ec2', name: 'dev-web', tags: { env: 'dev' } }],
      start: '2026-06-01T17:00Z',
    });
    const channels = new Map<string, Channel>([
      [
        'hook',
        new WebhookChannel({ name: 'hook', url: `${hook.url}/hooks/lightsout`, secret: SECRET }),
      ],
      ['slack', new SlackChannel({ name: 'slack', webhookUrl: `${slack.url}/services/T/B/x` })],
    ]);
    const engine = h.makeEngine('test', undefined, {
      notifier: new ChannelNotifier(pino({ level: 'silent' }), channels),
    });
    await h.tickAt('2026-06-01T17:00Z', engine);
    await h.tickAt('2026-06-01T17:45Z', engine);

    expect(hook.received).toHaveLength(1);
    const [warning] = hook.received;
    const body = JSON.parse(warning!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      schema: 1,
      kind: 'stop-warning',
      environment: 'dev',
      team: 'payments',
      details: { actAt: '2026-06-01T18:00:00.000Z', keepsOnUntil: '2026-06-02T18:00:00.000Z' },
    });
    expect(
      verifyWebhookSignature(
        SECRET,
        warning!.headers['x-lightsout-timestamp'] as string,
        warning!.body,
        warning!.headers['x-lightsout-signature'] as string,
        Date.now(),
      ),
    ).toBe(true);
    expect(slack.received).toHaveLength(1);

    // Slack is back; the next passes retry it alone (after its backoff), never the webhook.
    slackUp = true;
    await h.tickAt('2026-06-01T17:46Z', engine);
    expect(slack.received).toHaveLength(2);
    expect(hook.received).toHaveLength(1);
    const sent = (await store.queryEvents({ kind: 'notice.sent' })).events.map((e) => e.payload);
    expect(sent).toEqual(
      expect.arrayContaining([
        { notice: 'stop-warning', attempt: 1 },
        { notice: 'stop-warning', channel: 'hook', attempt: 1 },
        { notice: 'stop-warning', channel: 'slack', attempt: 2 },
      ]),
    );
    // The stop happens on time whatever the channels did.
    await h.tickAt('2026-06-01T18:00Z', engine);
    expect((await h.states())['dev-web']).toBe('off');
    // Nothing any channel received, and no event, carries the secret.
    const everything = [
      ...hook.received.map((r) => JSON.stringify(r)),
      ...slack.received.map((r) => JSON.stringify(r)),
      JSON.stringify((await store.queryEvents({}, { limit: 1_000 })).events),
    ].join('\n');
    expect(everything).not.toContain(SECRET);
  });

  it('a channel that refuses for good (a deleted webhook) is given up at once, not retried', async () => {
    const gone = await receiver(() => 404);
    closers.push(gone.close);
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [{ ...dev, notify: ['hook'] }],
      seeds: [{ kind: 'ec2', name: 'dev-web', tags: { env: 'dev' } }],
      start: '2026-06-01T17:00Z',
    });
    const channels = new Map<string, Channel>([
      ['hook', new WebhookChannel({ name: 'hook', url: `${gone.url}/h`, secret: SECRET })],
    ]);
    const engine = h.makeEngine('test', undefined, {
      notifier: new ChannelNotifier(pino({ level: 'silent' }), channels),
    });
    for (const time of ['17:00', '17:45', '17:46', '17:50'])
      await h.tickAt(`2026-06-01T${time}Z`, engine);
    expect(gone.received).toHaveLength(1);
    const failed = (await store.queryEvents({ kind: 'notice.failed' })).events.map(
      (e) => e.payload,
    );
    expect(failed).toEqual([
      expect.objectContaining({ notice: 'stop-warning', channel: 'hook', attempt: 1, final: true }),
    ]);
    await h.tickAt('2026-06-01T18:00Z', engine);
    expect((await h.states())['dev-web']).toBe('off');
  });

  describe('require_notice: a stop waits until a channel accepted its warning', () => {
    /** dev requires a delivered warning (2 min of grace); qa shares its channel and does not. */
    const environments: Environment[] = [
      {
        ...dev,
        graceMs: 2 * 60_000,
        notify: ['slack'],
        requireNotice: { waitMs: 20 * 60_000 },
      },
      {
        ...dev,
        name: 'qa',
        graceMs: 2 * 60_000,
        notify: ['slack'],
        tiers: [{ name: 'apps', select: [{ provider: 'sandbox', tags: { env: 'qa' } }] }],
      },
    ];
    const seeds = [
      { kind: 'ec2' as const, name: 'dev-web', tags: { env: 'dev' } },
      { kind: 'ec2' as const, name: 'qa-web', tags: { env: 'qa' } },
    ];

    async function setUp(up: () => boolean) {
      const slack = await receiver(() => (up() ? 200 : 503));
      closers.push(slack.close);
      store = await database.open();
      const h = await harness(store, {
        schedules: [officeHours],
        environments,
        seeds,
        start: '2026-06-01T17:58Z',
      });
      const channels = new Map<string, Channel>([
        ['slack', new SlackChannel({ name: 'slack', webhookUrl: `${slack.url}/services/T/B/x` })],
      ]);
      // Two replicas on one store; a long safety tick, so what a tick returns is the instant it needs.
      const replica = (owner: string) =>
        h.makeEngine(owner, undefined, {
          notifier: new ChannelNotifier(pino({ level: 'silent' }), channels),
          safetyTickMs: 6 * 3_600_000,
        });
      const s = store;
      const events = async (kind: string) =>
        (await s.queryEvents({ kind })).events.filter((e) => e.environment === 'dev');
      const devStop = async () => (await s.listRuns({ environment: 'dev' }))[0]!;
      return { slack, h, a: replica('replica-a'), b: replica('replica-b'), events, devStop };
    }

    it('a channel down holds the stop past its time; it happens once the channel takes the warning, acted by another replica', async () => {
      let up = false;
      const { slack, h, a, b, events, devStop } = await setUp(() => up);
      await h.tickAt('2026-06-01T17:58Z', a);
      await h.tickAt('2026-06-01T18:00Z', a);
      // qa does not require it: its stop is on time though the channel refused its warning.
      expect(await h.states()).toEqual({ 'dev-web': 'on', 'qa-web': 'off' });
      expect((await devStop()).status).toBe('grace');
      expect((await events('run.notice-wait')).map((e) => e.payload)).toEqual([
        { actAt: '2026-06-01T18:00:00.000Z', until: '2026-06-01T18:20:00.000Z' },
      ]);
      // Passes while it waits record the wait once.
      await h.tickAt('2026-06-01T18:00:20Z', b);
      expect(await events('run.notice-wait')).toHaveLength(1);
      expect((await h.states())['dev-web']).toBe('on');

      up = true;
      // The next attempt of the warning (after its backoff) is accepted; the same pass stops dev.
      await h.tickAt('2026-06-01T18:01Z', b);
      expect(await h.states()).toEqual({ 'dev-web': 'off', 'qa-web': 'off' });
      expect((await events('notice.sent')).map((e) => e.payload)).toContainEqual({
        notice: 'stop-warning',
        channel: 'slack',
        attempt: 3,
      });
      expect(slack.received.at(-1)?.body).toContain('dev');
      expect((await events('run.notice-wait-ended')).map((e) => e.payload)).toEqual([
        { delivered: true, channel: 'slack', waitedMs: 60_000 },
      ]);
      const finished = await events('run.finished');
      expect(finished[0]?.payload).not.toHaveProperty('notes');
    });

    it('no channel taking the warning: the stop waits notice_wait, then stops anyway and says so', async () => {
      const { h, a, events, devStop } = await setUp(() => false);
      await h.tickAt('2026-06-01T17:58Z', a);
      await h.tickAt('2026-06-01T18:00Z', a);
      // Every attempt of the warning fails; the stop still waits for its bound, and the pass wakes then.
      let next = 0;
      for (const time of ['18:00:40', '18:01:20', '18:02:40', '18:10'])
        next = await h.tickAt(`2026-06-01T${time}Z`, a);
      expect(next).toBe(at('2026-06-01T18:20Z'));
      expect((await h.states())['dev-web']).toBe('on');

      await h.tickAt('2026-06-01T18:20Z', a);
      expect((await h.states())['dev-web']).toBe('off');
      const [ended] = await events('run.notice-wait-ended');
      expect(ended?.payload).toEqual({
        delivered: false,
        waitedMs: 20 * 60_000,
        channels: [{ channel: 'slack', status: 'failed', attempts: 5 }],
        reason: 'no channel accepted the warning within notice_wait; stopping anyway',
      });
      // The run's report says the warning never reached anyone.
      const [finished] = await events('run.finished');
      expect(finished?.payload).toMatchObject({
        outcome: 'succeeded',
        notes: [expect.stringContaining('never delivered')],
      });
      const report = (await store!.listNotices((await devStop()).id)).find(
        (n) => n.kind === 'run-summary' && n.channel === '',
      );
      expect(report?.body).toContain('the warning was never delivered');
    });

    it('a cancel during the wait calls the stop off; the bound passing changes nothing', async () => {
      const { h, a, events, devStop } = await setUp(() => false);
      await h.tickAt('2026-06-01T17:58Z', a);
      await h.tickAt('2026-06-01T18:00Z', a);
      const waiting = await devStop();
      expect(waiting.status).toBe('grace');
      await a.cancel(waiting.id, 'alice');
      for (const time of ['18:05', '18:20', '18:30']) await h.tickAt(`2026-06-01T${time}Z`, a);
      expect((await devStop()).status).toBe('cancelled');
      expect((await h.states())['dev-web']).toBe('on');
      expect(await events('run.notice-wait-ended')).toEqual([]);
    });

    it('a stop without grace during the wait stops now: it has no warning to wait for', async () => {
      const { h, a, events } = await setUp(() => false);
      await h.tickAt('2026-06-01T17:58Z', a);
      await h.tickAt('2026-06-01T18:00Z', a);
      expect((await h.states())['dev-web']).toBe('on');
      await a.command('dev', 'stop', 'alice', 0);
      await h.tickAt('2026-06-01T18:01Z', a);
      expect((await h.states())['dev-web']).toBe('off');
      const runs = await store!.listRuns({ environment: 'dev' });
      expect(runs.map((r) => r.status).sort()).toEqual(['succeeded', 'superseded']);
      expect(await events('run.notice-wait-ended')).toEqual([]);
    });
  });
});
