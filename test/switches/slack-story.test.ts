/**
 * A warning's buttons in Slack, end to end on each database: the stop warning is
 * posted to a Slack channel (a local receiver stands in for the incoming webhook)
 * with interactive buttons; pressing "Keep running 1 h" sends Slack's signed
 * block_actions payload to the app, which follows the token through the real
 * action links and the engine as the Slack user, and answers on the response_url.
 * The same button again, or another team's member, changes nothing.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { API_SERVER_OPTIONS, serveApi } from '../../src/api/api.js';
import type { Environment } from '../../src/core/glossary.js';
import type { Engine } from '../../src/engine/engine.js';
import { ChannelNotifier } from '../../src/notify/router.js';
import { SlackChannel } from '../../src/notify/slack.js';
import type { Store } from '../../src/store/store.js';
import { ActionLinks } from '../../src/switches/action-links.js';
import { LinkingNotifier } from '../../src/switches/linking-notifier.js';
import { slackAppOf } from '../../src/switches/slack-app.js';
import { slackSignature } from '../../src/switches/slack-signature.js';
import { officeHours } from '../engine/fixtures.js';
import { harness } from '../engine/harness.js';
import { DATABASES } from '../store/databases.js';

const SECRET = 'story-signing-secret-0f1e2d3c4b5a';

const dev: Environment = {
  name: 'dev',
  timezone: 'UTC',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  notify: ['ops-slack'],
  tiers: [{ name: 'apps', select: [{ provider: 'sandbox', tags: { env: 'dev' } }] }],
};

/** An HTTP receiver of JSON bodies: Slack's webhook and response URLs. */
async function receiver() {
  const bodies: { path: string; body: Record<string, unknown> }[] = [];
  const waiters: (() => void)[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push({ path: request.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
      response.writeHead(200).end('ok');
      for (const wake of waiters.splice(0)) wake();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  /** Resolves once `count` bodies have come to `path`. */
  const bodiesAt = async (path: string, count: number) => {
    const at = () => bodies.filter((b) => b.path === path).map((b) => b.body);
    while (at().length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    return at();
  };
  return { url, bodiesAt, close: () => server.close() };
}

interface Button {
  readonly action_id: string;
  readonly value: string;
  readonly text: { readonly text: string };
}

describe.each(DATABASES)('Slack buttons of a warning, on $name', (database) => {
  let store: Store | undefined;
  let http: FastifyInstance | undefined;
  const closers: (() => void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await http?.close();
    await store?.close();
    store = undefined;
  });

  it('"Keep running 1 h" pressed in Slack keeps it on an hour, once, as the Slack user', async () => {
    const slack = await receiver();
    closers.push(slack.close);
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev],
      seeds: [{ kind: 'ec2', name: 'dev-web', tags: { env: 'dev' } }],
      start: '2026-06-01T17:00Z',
    });
    const late: { engine?: Engine } = {};
    const links = new ActionLinks({
      store,
      engine: () => late.engine!,
      environments: new Map([[dev.name, dev]]),
      publicUrl: 'https://lightsout.example.com',
      audiences: new Map([['ops-slack', 'Slack #ops']]),
      now: () => h.clock.now(),
    });
    const channel = new SlackChannel({
      name: 'ops-slack',
      webhookUrl: `${slack.url}/services/T/B/x`,
      interactive: true,
    });
    const notifier = new LinkingNotifier(
      new ChannelNotifier(pino({ level: 'silent' }), new Map([['ops-slack', channel]])),
      links,
    );
    const engine = h.makeEngine('test', undefined, { notifier });
    late.engine = engine;

    http = Fastify(API_SERVER_OPTIONS);
    await serveApi(http, {
      store,
      engine,
      environments: [dev],
      schedules: new Map([[officeHours.name, officeHours]]),
      now: () => h.clock.now(),
      slack: slackAppOf(
        {
          signing_secret: SECRET,
          users: [
            { user: 'U0OLIVIA', role: 'operator' },
            { user: 'U0PIERRE', role: 'operator', team: 'platform' },
          ],
        },
        { links, now: () => h.clock.now(), responseUrlAllowed: (u) => u.startsWith(slack.url) },
      ),
    });
    await http.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
    let trigger = 0;
    const press = async (user: string, button: Button) => {
      const body = new URLSearchParams({
        payload: JSON.stringify({
          type: 'block_actions',
          trigger_id: String(++trigger),
          user: { id: user, username: user.slice(2).toLowerCase(), team_id: 'T1' },
          response_url: `${slack.url}/actions/T1/1/x`,
          actions: [{ type: 'button', action_id: button.action_id, value: button.value }],
        }),
      }).toString();
      const ts = String(Math.floor(h.clock.now() / 1000));
      const response = await fetch(`${base}/hooks/slack/interactions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': ts,
          'x-slack-signature': slackSignature(SECRET, ts, body),
        },
        body,
      });
      expect(response.status).toBe(200);
    };

    // The warning, T-15 min, with its buttons.
    await h.tickAt('2026-06-01T17:45Z', engine);
    const [message] = await slack.bodiesAt('/services/T/B/x', 1);
    const actions = (message!['blocks'] as { type: string; elements?: Button[] }[]).find(
      (b) => b.type === 'actions',
    );
    const buttons = new Map(actions!.elements!.map((b) => [b.text.text, b]));
    const keep = buttons.get('Keep running 1 h')!;
    expect(keep.action_id).toBe('lightsout:keep-1h');
    expect(JSON.stringify(actions)).not.toContain('https://lightsout.example.com/actions/');

    // Another team's member: refused before the token is used.
    await press('U0PIERRE', keep);
    const [refused] = await slack.bodiesAt('/actions/T1/1/x', 1);
    expect(refused).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'You may act on platform’s environments only; this warning is not one of them.',
    });
    expect((await store.listRuns({ environment: 'dev' }))[0]!.status).toBe('grace');

    await press('U0OLIVIA', keep);
    const kept = (await slack.bodiesAt('/actions/T1/1/x', 2))[1]!;
    expect(kept['text']).toBe('dev keeps running until 19:00 UTC; the stop is called off.');
    expect((await store.listRuns({ environment: 'dev' }))[0]!.status).toBe('cancelled');
    const cancelled = await store.queryEvents({ kind: 'run.cancelled' });
    expect(cancelled.events.map((e) => e.actor)).toEqual(['slack:@olivia (U0OLIVIA)']);

    // The same button again changes nothing, and says why.
    await press('U0OLIVIA', keep);
    const again = (await slack.bodiesAt('/actions/T1/1/x', 3))[2]!;
    expect(again['text']).toMatch(/^Nothing changed: .*already used by slack:@olivia \(U0OLIVIA\)/);

    await h.tickAt('2026-06-01T18:00Z', engine);
    expect((await h.states())['dev-web']).toBe('on');
  });
});
