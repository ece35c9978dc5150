import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/notify/channel.js';
import { escapeMrkdwn, SlackChannel, slackMessage } from '../../src/notify/slack.js';
import type { Notice } from '../../src/engine/ports.js';
import { answerOk, closedPortUrl, httpReceiver } from '../support/http-receiver.js';
import type { Answer, HttpReceiver } from '../support/http-receiver.js';

/** A local stand-in for hooks.slack.com and slack.com/api: records requests, answers as told. */
let slack: HttpReceiver;
beforeAll(async () => {
  slack = await httpReceiver();
});
afterAll(() => slack.close());
afterEach(() => {
  slack.received.length = 0;
  slack.answer = answerOk;
});

const SECRET_PATH = '/services/T000SECRET/B000SECRET/XXXXsecretXXXX';
const TOKEN = 'xoxb-0000-secret-token-value';

const warning: Notice = {
  kind: 'stop-warning',
  environment: 'staging',
  team: 'payments',
  runId: 'run-42',
  text: 'staging stops at 19:00 <unless> you cancel & keep it on',
  at: Date.parse('2026-11-30T18:45:00Z'),
  details: {
    actAt: '19:00 UTC',
    trigger: 'schedule "evenings"',
    resources: ['ec2:i-1', 'rds:db-1'],
    actions: [
      { label: 'Keep it on 2 h', url: 'https://lightsout.example/keep?run=run-42' },
      { label: 'Stop now', url: 'https://lightsout.example/stop?run=run-42' },
    ],
  },
};
const summary: Notice = {
  kind: 'run-summary',
  environment: 'staging',
  runId: 'run-43',
  text: 'staging stopped: 2 resources',
  at: Date.parse('2026-11-30T19:01:00Z'),
  details: { actions: [{ label: 'Open', url: 'https://lightsout.example/runs/run-43' }] },
};

function webhook(): SlackChannel {
  return new SlackChannel({ name: 'ops', webhookUrl: `${slack.url}${SECRET_PATH}` });
}
function bot(timeoutMs?: number): SlackChannel {
  return new SlackChannel({
    name: 'ops',
    token: TOKEN,
    channel: '#ops',
    slackApiUrl: `${slack.url}/api/`,
    ...(timeoutMs !== undefined && { timeoutMs }),
  });
}
function json(status: number, body: unknown, headers: Record<string, string> = {}): Answer {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
}
function plain(status: number, body: string): Answer {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  };
}
async function failure(channel: SlackChannel, notice: Notice = warning): Promise<DeliveryError> {
  const error = await channel.send(notice).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  const d = error as DeliveryError;
  const everything = `${d.message} ${String(d.stack)} ${JSON.stringify(d)} ${String(d.cause)}`;
  for (const secret of [SECRET_PATH, 'SECRET', 'secret', TOKEN, slack.url])
    expect(everything).not.toContain(secret);
  return d;
}

describe('slackMessage', () => {
  it('lays a stop warning out as header, text, facts and buttons', () => {
    const { text, blocks } = slackMessage(warning);
    expect(text).toBe(
      'staging is about to stop: staging stops at 19:00 &lt;unless&gt; you cancel &amp; keep it on',
    );
    expect(blocks).toEqual([
      {
        type: 'header',
        text: { type: 'plain_text', text: 'staging is about to stop', emoji: false },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: 'staging stops at 19:00 &lt;unless&gt; you cancel &amp; keep it on',
        },
      },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Environment*\nstaging' },
          { type: 'mrkdwn', text: '*Team*\npayments' },
          { type: 'mrkdwn', text: '*Stops at*\n19:00 UTC' },
          { type: 'mrkdwn', text: '*Why*\nschedule "evenings"' },
          { type: 'mrkdwn', text: '*Resources*\nec2:i-1, rds:db-1' },
          { type: 'mrkdwn', text: '*Run*\nrun-42' },
        ],
      },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Keep it on 2 h', emoji: false },
            url: 'https://lightsout.example/keep?run=run-42',
            action_id: 'lightsout-action-0',
          },
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Stop now', emoji: false },
            url: 'https://lightsout.example/stop?run=run-42',
            action_id: 'lightsout-action-1',
          },
        ],
      },
    ]);
  });

  it('has no actions block without action URLs, nor for a run summary', () => {
    const bare = { ...warning, details: { actAt: '19:00 UTC' } };
    expect(slackMessage(bare).blocks.map((b) => b.type)).toEqual(['header', 'section', 'section']);
    expect(slackMessage(summary).blocks.map((b) => b.type)).toEqual([
      'header',
      'section',
      'section',
    ]);
    const junk = {
      ...warning,
      details: { actions: [{ label: 'x' }, { label: 'js', url: 'javascript:alert(1)' }, 'no'] },
    };
    expect(slackMessage(junk).blocks.map((b) => b.type)).not.toContain('actions');
  });

  it('escapes &, < and > in the text and in facts, and leaves the header plain', () => {
    expect(escapeMrkdwn('a & b <@U123> <!channel> > c')).toBe(
      'a &amp; b &lt;@U123&gt; &lt;!channel&gt; &gt; c',
    );
    const n: Notice = { ...summary, environment: 'dev<&>', text: '<!here> x' };
    const { blocks } = slackMessage(n);
    expect(JSON.stringify(blocks)).not.toContain('<!here>');
    expect(blocks[0]).toMatchObject({ text: { text: 'dev<&>: run report' } });
    expect(blocks[2]).toMatchObject({
      fields: [{ text: '*Environment*\ndev&lt;&amp;&gt;' }, { text: '*Run*\nrun-43' }],
    });
  });
  it('keeps within Block Kit limits', () => {
    const long: Notice = { ...summary, environment: 'e'.repeat(400), text: 'x'.repeat(5000) };
    const { blocks } = slackMessage(long);
    const header = blocks[0] as { text: { text: string } };
    const section = blocks[1] as { text: { text: string } };
    expect(header.text.text.length).toBe(150);
    expect(header.text.text.endsWith('…')).toBe(true);
    expect(section.text.text.length).toBe(3000);
  });
});

describe('SlackChannel, incoming webhook', () => {
  it('POSTs JSON with text and blocks to the webhook URL', async () => {
    const channel = webhook();
    expect(channel.kind).toBe('slack');
    expect(channel.name).toBe('ops');
    await channel.send(warning);
    expect(slack.received).toHaveLength(1);
    const [req] = slack.received;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe(SECRET_PATH);
    expect(req?.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(req?.body ?? '')).toEqual(slackMessage(warning));
  });

  it.each([
    [404, 'no_service', true, 'does not exist'],
    [404, '', true, 'does not exist (deleted?)'],
    [410, 'no_active_hooks', true, 'disabled'],
    [403, 'invalid_token', true, 'refused'],
    [403, 'action_prohibited', true, 'admin'],
    [403, '', true, 'the webhook was refused: check it'],
    [404, 'channel_not_found', true, 'channel no longer exists'],
    [410, 'channel_is_archived', true, 'archived'],
    [400, 'invalid_payload', true, 'message format'],
    [400, 'invalid_blocks', true, 'message format'],
    [404, 'no_team', true, 'create a new webhook'],
    [429, 'rate_limited', false, 'tried again'],
    [500, 'internal error', false, 'tried again'],
    [503, '', false, 'tried again'],
  ])('maps HTTP %i %s (permanent: %s)', async (status, body, permanent, says) => {
    slack.answer = plain(status, body);
    const error = await failure(webhook());
    expect(error.permanent).toBe(permanent);
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain(says);
    expect(error.message).toContain('slack channel ops');
  });

  it('does not echo a body that is not an error code', async () => {
    slack.answer = plain(400, `<html>${SECRET_PATH}</html>`);
    const error = await failure(webhook());
    expect(error.permanent).toBe(false);
    expect(error.message).not.toContain('html');
  });

  it('times out, not permanently, without naming the URL', async () => {
    slack.answer = () => {
      /* never answers */
    };
    const channel = new SlackChannel({
      name: 'ops',
      webhookUrl: `${slack.url}${SECRET_PATH}`,
      timeoutMs: 200,
    });
    const error = await failure(channel);
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('did not answer within 200 ms');
  });

  it('reports an unreachable webhook as not permanent', async () => {
    const channel = new SlackChannel({
      name: 'ops',
      webhookUrl: `${await closedPortUrl()}${SECRET_PATH}`,
    });
    const error = await failure(channel);
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('network error');
  });

  it('refuses a webhook URL that is not http(s), without echoing it', () => {
    expect(() => new SlackChannel({ name: 'ops', webhookUrl: 'hooks.slack.com/secret' })).toThrow(
      /^slack channel ops: the webhook URL is not an http\(s\) URL$/,
    );
  });
});

describe('SlackChannel, bot token', () => {
  it('calls chat.postMessage with the token, channel, text and blocks', async () => {
    slack.answer = json(200, { ok: true, channel: 'C1', ts: '1.2' });
    await bot().send(warning);
    expect(slack.received).toHaveLength(1);
    const [req] = slack.received;
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/api/chat.postMessage');
    expect(req?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const form = new URLSearchParams(req?.body ?? '');
    const expected = slackMessage(warning);
    expect(form.get('channel')).toBe('#ops');
    expect(form.get('text')).toBe(expected.text);
    expect(JSON.parse(form.get('blocks') ?? '')).toEqual(expected.blocks);
  });

  it.each([
    ['channel_not_found', true, 'invite the bot to #ops'],
    ['not_in_channel', true, 'invite the bot to #ops'],
    ['invalid_auth', true, 'the token was refused: check it'],
    ['not_authed', true, 'the token was refused'],
    ['token_revoked', true, 'the token was revoked: create a new one'],
    ['account_inactive', true, 'reinstall the app'],
    ['missing_scope', true, 'chat:write'],
    ['token_expired', true, 'create a new one'],
    ['access_denied', true, 'restricted'],
    ['is_archived', true, 'archived'],
    ['invalid_blocks', true, 'message format'],
    ['internal_error', false, 'tried again'],
    ['fatal_error', false, 'tried again'],
    ['something_new', false, 'tried again'],
  ])('maps error %s (permanent: %s)', async (code, permanent, says) => {
    slack.answer = json(200, { ok: false, error: code });
    const error = await failure(bot());
    expect(error.permanent).toBe(permanent);
    expect(error.message).toContain(code);
    expect(error.message).toContain(says);
    expect(slack.received).toHaveLength(1); // the client does not retry: our delivery does
  });

  it('maps a 429 to not permanent, without waiting or retrying', async () => {
    slack.answer = json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '30' });
    const started = Date.now();
    const error = await failure(bot());
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('rate-limited');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(slack.received).toHaveLength(1);
  });

  it('maps a 429 without Retry-After to not permanent', async () => {
    slack.answer = json(429, { ok: false, error: 'ratelimited' });
    const error = await failure(bot());
    expect(error.permanent).toBe(false);
  });

  it.each([500, 502, 503])('maps HTTP %i to not permanent, once', async (status) => {
    slack.answer = plain(status, 'upstream trouble');
    const error = await failure(bot());
    expect(error.permanent).toBe(false);
    expect(error.message).toContain(`HTTP ${status}`);
    expect(slack.received).toHaveLength(1);
  });

  it('maps HTTP 403 to permanent', async () => {
    slack.answer = plain(403, 'forbidden');
    const error = await failure(bot());
    expect(error.permanent).toBe(true);
    expect(error.message).toContain('the token was refused: check it');
  });

  it('times out, not permanently', async () => {
    slack.answer = () => {
      /* never answers */
    };
    const error = await failure(bot(200));
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('did not answer within 200 ms');
  });

  it('refuses an empty token or channel', () => {
    expect(() => new SlackChannel({ name: 'ops', token: '', channel: '#ops' })).toThrow(/token/);
    expect(() => new SlackChannel({ name: 'ops', token: TOKEN, channel: '' })).toThrow(/channel/);
  });
});
