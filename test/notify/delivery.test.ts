/**
 * Notices through the engine to real HTTP receivers: each is recorded once per
 * channel of its environment and once for the log, and each channel is retried on
 * its own, so a channel that is down never makes another get a message twice.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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

const SECRET = 'whsec-test-0123456789';

/** An HTTP receiver that records what it got, answering `status()` at each request. */
async function receiver(status: () => number) {
  const received: { path: string; headers: Record<string, unknown>; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      received.push({ path: request.url ?? '', headers: request.headers, body });
      response.writeHead(status()).end(status() < 300 ? 'ok' : 'down');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => server.close() };
}

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
  const closers: (() => void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
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
});
