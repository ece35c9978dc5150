/**
 * The Slack app through a real fastify instance (the API as `serve` serves it),
 * the real engine and a store on each database: each `/lightsout` command
 * changes what it says (a run, a reservation, a hold, a cancelled stop) and
 * answers ephemerally with what will happen and when; viewers read, operators
 * act, a team-scoped member sees its team's environments only, strangers are
 * refused politely, and requests Slack did not sign get a 401. Buttons follow
 * their token through a (fake) LinkActor and answer on the payload's response_url.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { API_SERVER_OPTIONS, serveApi } from '../../src/api/api.js';
import type { Environment, Hold } from '../../src/core/glossary.js';
import type { Store } from '../../src/store/store.js';
import type { LinkOutcome } from '../../src/switches/link-actions.js';
import { LinkRefused } from '../../src/switches/link-actions.js';
import type { SlackLinks } from '../../src/switches/slack-app.js';
import { slackAppOf } from '../../src/switches/slack-app.js';
import { slackSignature } from '../../src/switches/slack-signature.js';
import { officeHours } from '../engine/fixtures.js';
import { harness } from '../engine/harness.js';
import { DATABASES } from '../store/databases.js';

const SECRET = 'slack-signing-secret-0123456789abcdef';

const environments: Environment[] = [
  {
    name: 'dev',
    timezone: 'UTC',
    schedule: 'office-hours',
    team: 'payments',
    graceMs: 15 * 60_000,
    tiers: [{ name: 'apps', select: [{ provider: 'sandbox', tags: { env: 'dev' } }] }],
  },
  {
    name: 'ops',
    timezone: 'Europe/Paris',
    team: 'platform',
    maxReservationMs: 24 * 3_600_000,
    tiers: [{ name: 'db', select: [{ provider: 'sandbox', tags: { env: 'ops' } }] }],
  },
];

const USERS = [
  { user: 'U0OLIVIA', role: 'operator' as const },
  { user: 'U0VICTOR', role: 'viewer' as const },
  { user: 'U0PAULA', role: 'operator' as const, team: 'payments' },
];

/** One answer of our server: its status, and its JSON body when it has one. */
interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

/** An HTTP receiver standing in for Slack's response_url; `next()` resolves with the next body. */
async function responseUrls() {
  const bodies: unknown[] = [];
  let waiting: ((body: unknown) => void) | undefined;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const parsed = JSON.parse(body) as unknown;
      bodies.push(parsed);
      response.writeHead(200).end('ok');
      waiting?.(parsed);
      waiting = undefined;
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    bodies,
    next: () => new Promise<unknown>((resolve) => (waiting = resolve)),
    close: () => server.close(),
  };
}

/** Follows tokens written `ENVIRONMENT:anything`, answering what `answer` says. */
class FakeLinks implements SlackLinks {
  readonly used: { token: string; actor: string }[] = [];
  constructor(private readonly answer: (token: string) => LinkOutcome) {}
  preview(token: string): Promise<{ environment: string }> {
    return Promise.resolve({ environment: token.split(':')[0]! });
  }
  use(token: string, actor: string): Promise<LinkOutcome> {
    this.used.push({ token, actor });
    return Promise.resolve().then(() => this.answer(token));
  }
}

describe.each(DATABASES)('the Slack app, on $name', (database) => {
  let store: Store | undefined;
  let http: FastifyInstance | undefined;
  const closers: (() => void)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await http?.close();
    await store?.close();
    store = undefined;
    http = undefined;
  });

  /** Monday 1 June 2026, 10:00 UTC: dev is on by its schedule. */
  async function served(
    links?: SlackLinks,
    receiverUrl = 'http://127.0.0.1:1',
    holds: Hold[] = [],
  ) {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments,
      seeds: [
        { kind: 'ec2', name: 'dev-web', tags: { env: 'dev' } },
        { kind: 'rds', name: 'ops-db', tags: { env: 'ops' } },
      ],
      holds,
      start: '2026-06-01T10:00Z',
    });
    await h.tickAt('2026-06-01T10:00Z');
    const logged: string[] = [];
    const app = slackAppOf(
      { signing_secret: '${SLACK_SIGNING_SECRET}', users: USERS },
      {
        links,
        now: () => h.clock.now(),
        sources: { env: { SLACK_SIGNING_SECRET: SECRET }, readFile: () => '' },
        log: (fields, message) => logged.push(`${message} ${JSON.stringify(fields)}`),
        responseUrlAllowed: (url) => url.startsWith(receiverUrl),
      },
    );
    http = Fastify(API_SERVER_OPTIONS);
    const apiErrors: unknown[] = [];
    await serveApi(
      http,
      {
        store,
        engine: h.engine,
        environments,
        schedules: new Map([[officeHours.name, officeHours]]),
        now: () => h.clock.now(),
        slack: app,
      },
      { logError: (error) => apiErrors.push(error) },
    );
    await http.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
    const answers: string[] = [];
    let trigger = 0;
    /** A form POST signed as Slack signs it (or with `secret` instead). */
    const post = async (path: string, form: Record<string, string>, secret = SECRET) => {
      const body = new URLSearchParams({ ...form, trigger_id: String(++trigger) }).toString();
      const ts = String(Math.floor(h.clock.now() / 1000));
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': ts,
          'x-slack-signature': slackSignature(secret, ts, body),
        },
        body,
      });
      const text = await response.text();
      answers.push(text);
      return {
        status: response.status,
        body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
      } satisfies Answer;
    };
    const names: Record<string, string> = {
      U0OLIVIA: 'olivia',
      U0VICTOR: 'victor',
      U0PAULA: 'paula',
    };
    /** `/lightsout TEXT` typed by `user`: the answer's text, after checking it is an ephemeral 200. */
    const command = async (user: string, text: string) => {
      const answer = await post('/hooks/slack/commands', {
        command: '/lightsout',
        text,
        user_id: user,
        user_name: names[user] ?? 'someone',
        response_url: `${receiverUrl}/commands/1`,
      });
      expect(answer.status).toBe(200);
      expect(answer.body?.['response_type']).toBe('ephemeral');
      return answer.body?.['text'] as string;
    };
    const press = (user: string, action: string, token: string) =>
      post('/hooks/slack/interactions', {
        payload: JSON.stringify({
          type: 'block_actions',
          user: { id: user, username: names[user] ?? 'someone', team_id: 'T1' },
          response_url: `${receiverUrl}/actions/T1/1/x`,
          actions: [
            {
              type: 'button',
              action_id: `lightsout:${action}`,
              value: token,
            },
          ],
        }),
      });
    const everything = () => [...answers, ...logged, ...apiErrors.map(String)].join('\n');
    return { h, store, post, command, press, logged, apiErrors, everything };
  }

  it('help and a command it cannot read answer how to write one', async () => {
    const { command } = await served();
    expect(await command('U0VICTOR', '')).toContain('`stop ENV [grace 10m]`');
    expect(await command('U0VICTOR', 'help')).toContain('`reserve ENV for 2h`');
    expect(await command('U0VICTOR', 'reboot dev')).toBe(
      'I do not know “reboot”; try `/lightsout help` for what I can do',
    );
    expect(await command('U0OLIVIA', 'stop dev grace soon')).toContain(
      'grace: "soon" is not a duration',
    );
  });

  it('status: what is on, and what happens next, for anyone who may see it', async () => {
    const { command } = await served();
    const all = await command('U0VICTOR', 'status');
    expect(all.split('\n')).toEqual([
      '*dev* (payments): on by plan · resources: not discovered yet · next: off at 18:00 UTC',
      '*ops* (platform): off by plan · resources: not discovered yet · no change planned',
    ]);
    expect(await command('U0VICTOR', 'status ops')).toMatch(/^\*ops\* \(platform\)/);
  });

  it('stop with a grace warns and stops later; cancel keeps it on; a second cancel has nothing to do', async () => {
    const { command, store: s, h } = await served();
    expect(await command('U0OLIVIA', 'stop dev grace 10m')).toBe('dev stops at 10:10 UTC.');
    const [run] = (await s.openRuns()).filter((r) => r.environment === 'dev');
    expect(run).toMatchObject({
      direction: 'stop',
      status: 'grace',
      actor: 'slack:@olivia (U0OLIVIA)',
      act_at: Date.parse('2026-06-01T10:10Z'),
    });
    expect(await command('U0VICTOR', 'status dev')).toContain(
      'stopping at 10:10 UTC (`/lightsout cancel dev` keeps it on)',
    );
    expect(await command('U0OLIVIA', 'cancel dev')).toBe(
      'dev’s stop at 10:10 UTC is cancelled; it stays on until 18:00 UTC.',
    );
    expect((await s.getRun(run!.id))?.status).toBe('cancelled');
    expect(await command('U0OLIVIA', 'cancel dev')).toBe(
      'dev has no stop in its grace period, so there is nothing to cancel.',
    );
    await h.tickAt('2026-06-01T10:11Z');
    expect((await h.states())['dev-web']).toBe('on');
  });

  it('start acts now; reserve keeps on for a while or until a time; extend holds it on longer', async () => {
    const { command, store: s, h } = await served();
    expect(await command('U0OLIVIA', 'reserve ops for 2h')).toBe(
      'ops is reserved: on now until 14:00 Europe/Paris (12:00 UTC).',
    );
    expect(await command('U0OLIVIA', 'reserve ops until 18:00')).toBe(
      'ops is reserved: on now until 18:00 Europe/Paris (16:00 UTC).',
    );
    const reservations = await s.listReservations({ environments: ['ops'], from: h.clock.now() });
    expect(reservations.map((r) => [new Date(r.to).toISOString(), r.actor])).toEqual([
      ['2026-06-01T12:00:00.000Z', 'slack:@olivia (U0OLIVIA)'],
      ['2026-06-01T16:00:00.000Z', 'slack:@olivia (U0OLIVIA)'],
    ]);
    expect(await command('U0OLIVIA', 'reserve ops for 2d')).toBe(
      'Nothing changed: ops takes reservations of at most 24 h (max_reservation); ask for less.',
    );
    expect(await command('U0OLIVIA', 'reserve ops until 09:00')).toBe(
      '09:00 today in Europe/Paris has passed; give a later time, or a date and time such as 2026-06-02T09:00',
    );
    expect(await command('U0OLIVIA', 'extend dev until 20:00')).toBe(
      'dev stays on until 20:00 UTC.',
    );
    const holds = await s.listHolds(['dev'], h.clock.now());
    expect(holds.map((x) => [x.state, new Date(x.until).toISOString(), x.actor])).toContainEqual([
      'on',
      '2026-06-01T20:00:00.000Z',
      'slack:@olivia (U0OLIVIA)',
    ]);
    expect(await command('U0OLIVIA', 'start ops')).toBe('ops starts now.');
    const started = (await s.listRuns({ environment: 'ops', limit: 5 })).find(
      (r) => r.trigger === 'adhoc',
    );
    expect(started).toMatchObject({ direction: 'start', actor: 'slack:@olivia (U0OLIVIA)' });
    await h.tickAt('2026-06-01T10:01Z');
    expect(await command('U0VICTOR', 'status ops')).toContain('on by plan · resources: 1 on');
  });

  it('a hold-off from the config wins over an extend: refused, saying where to lift it', async () => {
    const {
      command,
      store: s,
      h,
    } = await served(undefined, undefined, [
      {
        environment: 'dev',
        state: 'off',
        from: Date.parse('2026-06-01T19:00Z'),
        until: Date.parse('2026-06-01T22:00Z'),
      },
    ]);
    expect(await command('U0OLIVIA', 'extend dev until 20:00')).toMatch(
      /^Nothing changed: dev is held off until 2026-06-01T22:00:00.000Z by .*, and a hold-off wins over keeping it on; it comes from the config file, so it is lifted there\.$/,
    );
    const holds = await s.listHolds(['dev'], h.clock.now());
    expect(holds.map((x) => x.state)).toEqual(['off']);
  });

  it('a viewer may ask for status only; nothing changes', async () => {
    const { command, store: s } = await served();
    for (const text of [
      'start dev',
      'stop dev',
      'reserve dev for 1h',
      'extend dev until 20:00',
      'cancel dev',
    ])
      expect(await command('U0VICTOR', text)).toMatch(
        /needs the operator role; you are a viewer here/,
      );
    expect((await s.openRuns()).filter((r) => r.trigger === 'adhoc')).toEqual([]);
  });

  it('a team-scoped member sees and acts on its team’s environments only', async () => {
    const { command, store: s } = await served();
    expect(await command('U0PAULA', 'status')).toMatch(/^\*dev\* \(payments\)[^\n]*$/);
    for (const text of ['status ops', 'stop ops', 'reserve ops for 1h'])
      expect(await command('U0PAULA', text)).toBe(
        'There is no environment “ops”; `/lightsout status` lists yours.',
      );
    expect((await s.openRuns()).filter((r) => r.environment === 'ops')).toEqual([]);
    expect(await command('U0PAULA', 'stop dev')).toBe('dev stops at 10:15 UTC.');
  });

  it('a Slack user no rule names is refused politely, and told whom to ask', async () => {
    const { command } = await served();
    expect(await command('U0STRANGER', 'status')).toBe(
      'Sorry, lightsout does not know you yet (Slack user U0STRANGER). Ask a lightsout admin to add your user id or your email under `switches.slack.users` in its config.',
    );
  });

  it('a request Slack did not sign (wrong secret, no headers) is a 401, and changes nothing', async () => {
    const { post, store: s, logged } = await served();
    const form = {
      command: '/lightsout',
      text: 'stop dev',
      user_id: 'U0OLIVIA',
      user_name: 'olivia',
    };
    const forged = await post('/hooks/slack/commands', form, 'guessed-secret');
    expect(forged.status).toBe(401);
    expect(forged.body).toMatchObject({
      type: 'https://lightsout.dev/problems/invalid-slack-signature',
      detail: 'not a request from the Slack app: the signature does not match the signing secret',
    });
    const bare = await fetch(
      `http://127.0.0.1:${(http!.server.address() as AddressInfo).port}/hooks/slack/commands`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      },
    );
    expect(bare.status).toBe(401);
    expect((await s.openRuns()).filter((r) => r.environment === 'dev')).toEqual([]);
    expect(logged.filter((l) => l.startsWith('Slack request refused'))).toHaveLength(2);
  });

  it('a replayed request is refused, however well signed', async () => {
    const { h } = await served();
    const port = (http!.server.address() as AddressInfo).port;
    const body = new URLSearchParams({
      command: '/lightsout',
      text: 'status',
      user_id: 'U0VICTOR',
    }).toString();
    const ts = String(Math.floor(h.clock.now() / 1000));
    const send = () =>
      fetch(`http://127.0.0.1:${port}/hooks/slack/commands`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': ts,
          'x-slack-signature': slackSignature(SECRET, ts, body),
        },
        body,
      });
    expect((await send()).status).toBe(200);
    expect((await send()).status).toBe(401);
  });

  it('a button follows its token as the member who pressed it, and answers on the response_url', async () => {
    const receiver = await responseUrls();
    closers.push(receiver.close);
    const links = new FakeLinks((token) => {
      if (token === 'dev:used')
        throw new LinkRefused('this link was used already; nothing changed', 'used');
      return {
        action: 'keep-1h',
        environment: 'dev',
        runId: 'r1',
        said: 'dev stays on until 19:00 UTC',
      };
    });
    const { press } = await served(links, receiver.url);

    let answered = receiver.next();
    expect((await press('U0OLIVIA', 'keep-1h', 'dev:tok-123')).status).toBe(200);
    expect(await answered).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: 'dev stays on until 19:00 UTC.',
    });
    expect(links.used).toEqual([{ token: 'dev:tok-123', actor: 'slack:@olivia (U0OLIVIA)' }]);

    answered = receiver.next();
    await press('U0PAULA', 'stop-now', 'dev:used');
    expect(await answered).toMatchObject({
      text: 'Nothing changed: this link was used already; nothing changed',
    });

    // Refused before the token is used: a viewer, another team's warning (its link says ops), a stranger.
    for (const [user, environment, said] of [
      ['U0VICTOR', 'dev', 'The buttons need the operator role; you are a viewer here.'],
      ['U0PAULA', 'ops', 'You may act on payments’s environments only'],
      ['U0STRANGER', 'dev', 'Sorry, lightsout does not know you yet'],
    ] as const) {
      answered = receiver.next();
      await press(user, 'keep-1h', `${environment}:tok-456`);
      expect(((await answered) as { text: string }).text).toContain(said);
    }
    expect(links.used.map((u) => u.token)).toEqual(['dev:tok-123', 'dev:used']);
  });

  it('a button whose action fails unexpectedly still answers a sentence, and the error is logged', async () => {
    const receiver = await responseUrls();
    closers.push(receiver.close);
    const links = new FakeLinks(() => {
      throw new Error('database is away');
    });
    const { press, logged } = await served(links, receiver.url);
    const answered = receiver.next();
    expect((await press('U0OLIVIA', 'stop-now', 'dev:tok')).status).toBe(200);
    expect(((await answered) as { text: string }).text).toBe(
      'Something went wrong on lightsout’s side (it is logged). Check `/lightsout status` before trying again, or use the CLI or the API.',
    );
    expect(logged.join('\n')).toContain('database is away');
  });

  it('buttons without a LinkActor say how to act instead', async () => {
    const receiver = await responseUrls();
    closers.push(receiver.close);
    const { press } = await served(undefined, receiver.url);
    const answered = receiver.next();
    await press('U0OLIVIA', 'keep-1h', 'dev:tok');
    expect(((await answered) as { text: string }).text).toContain('/lightsout cancel ENV');
  });

  it('the signing secret appears in no answer and no log line', async () => {
    const { command, post, everything } = await served();
    await command('U0OLIVIA', 'stop dev grace 10m');
    await command('U0OLIVIA', 'cancel dev');
    await command('U0STRANGER', 'status');
    await post('/hooks/slack/commands', { text: 'status', user_id: 'U0VICTOR' }, 'wrong');
    await post('/hooks/slack/commands', { text: `status ${SECRET}`, user_id: 'U0VICTOR' }, 'wrong');
    expect(everything()).not.toContain(SECRET);
    expect(everything()).toContain('Slack request refused');
  });
});
