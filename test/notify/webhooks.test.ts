import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Notice } from '../../src/engine/ports.js';
import { DeliveryError, type Channel } from '../../src/notify/channel.js';
import { GoogleChatChannel } from '../../src/notify/google-chat.js';
import { TeamsChannel } from '../../src/notify/teams.js';
import { signWebhook, verifyWebhookSignature, WebhookChannel } from '../../src/notify/webhook.js';
import { closedPortUrl, httpReceiver } from '../support/http-receiver.js';
import type { HttpReceiver, ReceivedRequest } from '../support/http-receiver.js';

/** A local receiver: records every request and answers as `respond` says. */
let receiver: HttpReceiver;
let respond: { status: number; body?: string; hang?: boolean } = { status: 200 };

beforeAll(async () => {
  receiver = await httpReceiver((req, res) => {
    if (respond.hang) return; // never answers: the channel's timeout must
    res.writeHead(respond.status, { 'Content-Type': 'text/plain' });
    // Some receivers echo the request; the error must still not carry the URL.
    res.end(respond.body ?? (respond.status < 300 ? '1' : `failed ${req.url}`));
  });
});

afterAll(() => receiver.close());

afterEach(() => {
  receiver.received.length = 0;
  respond = { status: 200 };
  receiver.dropConnections();
});

const AT = Date.parse('2026-11-30T18:45:00Z');
const SECRET = 's3cr3t-signing-key';
/** The secret parts of each URL, which no error may show. */
const TEAMS_PATH = '/workflows/abc123/triggers/manual/paths/invoke?sig=TEAMS-SIG-SECRET';
const CHAT_PATH = '/v1/spaces/AAAA/messages?key=CHAT-KEY-SECRET&token=CHAT-TOKEN-SECRET';
const HOOK_PATH = '/hooks/HOOK-PATH-SECRET';

const warning: Notice = {
  kind: 'stop-warning',
  environment: 'staging',
  team: 'payments',
  runId: 'run-42',
  text: 'staging stops at 19:00 UTC. Cancel to keep it on.',
  at: AT,
  details: {
    actAt: '19:00 UTC',
    keepsOnUntil: '21:00 UTC',
    trigger: 'schedule "evenings"',
    resources: ['ec2:i-1', 'rds:db-1'],
  },
};

const summary: Notice = {
  kind: 'run-summary',
  environment: 'dev <lab>',
  runId: 'run-43',
  text: 'dev stopped: 3 resources off.',
  at: AT,
};

function webhook(overrides: Partial<ConstructorParameters<typeof WebhookChannel>[0]> = {}) {
  return new WebhookChannel({
    name: 'audit',
    url: receiver.url + HOOK_PATH,
    secret: SECRET,
    now: () => AT + 5_000,
    ...overrides,
  });
}

const channels: [string, () => Channel, string][] = [
  ['webhook', () => webhook({ timeoutMs: 300 }), HOOK_PATH],
  [
    'teams',
    () => new TeamsChannel({ name: 'ops', url: receiver.url + TEAMS_PATH, timeoutMs: 300 }),
    TEAMS_PATH,
  ],
  [
    'google-chat',
    () => new GoogleChatChannel({ name: 'ops', url: receiver.url + CHAT_PATH, timeoutMs: 300 }),
    CHAT_PATH,
  ],
];

function only(): ReceivedRequest {
  expect(receiver.received).toHaveLength(1);
  return receiver.received[0]!;
}

describe('WebhookChannel', () => {
  it('posts the notice as schema-1 JSON with a timestamp and a signature', async () => {
    await webhook().send(warning);
    const request = only();
    expect(request.method).toBe('POST');
    expect(request.url).toBe(HOOK_PATH);
    expect(request.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request.body)).toEqual({
      schema: 1,
      kind: 'stop-warning',
      environment: 'staging',
      team: 'payments',
      runId: 'run-42',
      text: warning.text,
      at: '2026-11-30T18:45:00.000Z',
      details: warning.details,
    });
    expect(request.headers['x-lightsout-timestamp']).toBe(String((AT + 5_000) / 1000));
    expect(request.headers['x-lightsout-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
  });

  it('sends team null and empty details when the notice has none', async () => {
    await webhook().send(summary);
    const body = JSON.parse(only().body) as Record<string, unknown>;
    expect(body['team']).toBeNull();
    expect(body['details']).toEqual({});
    expect(body['kind']).toBe('run-summary');
  });

  it('signs so that the receiver-side helper verifies the request', async () => {
    await webhook().send(warning);
    const { headers, body } = only();
    const timestamp = headers['x-lightsout-timestamp'] as string;
    const signature = headers['x-lightsout-signature'] as string;
    const receivedAt = AT + 7_000;
    expect(verifyWebhookSignature(SECRET, timestamp, body, signature, receivedAt)).toBe(true);
    expect(
      verifyWebhookSignature(SECRET, timestamp, Buffer.from(body), signature, receivedAt),
    ).toBe(true);
    // A changed body, a wrong secret, a changed timestamp: refused.
    const changed = body.replace('staging', 'prod');
    expect(verifyWebhookSignature(SECRET, timestamp, changed, signature, receivedAt)).toBe(false);
    expect(verifyWebhookSignature('other-secret', timestamp, body, signature, receivedAt)).toBe(
      false,
    );
    expect(
      verifyWebhookSignature(SECRET, String(Number(timestamp) + 1), body, signature, receivedAt),
    ).toBe(false);
  });

  it('refuses timestamps outside the tolerance, either way', () => {
    const body = '{"schema":1}';
    const stamp = Math.floor(AT / 1000);
    const signature = signWebhook(SECRET, stamp, body);
    expect(verifyWebhookSignature(SECRET, stamp, body, signature, AT + 300_000)).toBe(true);
    expect(verifyWebhookSignature(SECRET, stamp, body, signature, AT + 301_000)).toBe(false);
    expect(verifyWebhookSignature(SECRET, stamp, body, signature, AT - 301_000)).toBe(false);
    expect(verifyWebhookSignature(SECRET, stamp, body, signature, AT + 60_000, 30)).toBe(false);
    expect(verifyWebhookSignature(SECRET, stamp, body, signature, AT + 20_000, 30)).toBe(true);
  });

  it('refuses malformed input without throwing', () => {
    const body = '{}';
    const stamp = Math.floor(AT / 1000);
    const signature = signWebhook(SECRET, stamp, body);
    expect(verifyWebhookSignature(SECRET, undefined, body, signature, AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, stamp, body, undefined, AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, [String(stamp)], body, signature, AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, stamp, body, [signature, signature], AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, 'soon', body, signature, AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, `${stamp}.5`, body, signature, AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, stamp, body, 'sha256=abc', AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, stamp, body, signature.toUpperCase(), AT)).toBe(false);
    expect(verifyWebhookSignature(SECRET, stamp, body, 'é'.repeat(71), AT)).toBe(false);
  });
});

describe('TeamsChannel', () => {
  it('posts an Adaptive Card 1.4 in a message attachment: title, sentence, facts', async () => {
    await new TeamsChannel({ name: 'ops', url: receiver.url + TEAMS_PATH }).send(warning);
    const request = only();
    expect(request.url).toBe(TEAMS_PATH);
    expect(request.headers['content-type']).toBe('application/json');
    const message = JSON.parse(request.body) as {
      type: string;
      attachments: { contentType: string; content: Record<string, unknown> }[];
    };
    expect(message.type).toBe('message');
    expect(message.attachments).toHaveLength(1);
    const [attachment] = message.attachments;
    expect(attachment!.contentType).toBe('application/vnd.microsoft.card.adaptive');
    const card = attachment!.content as { type: string; version: string; body: unknown[] };
    expect(card.type).toBe('AdaptiveCard');
    expect(card.version).toBe('1.4');
    expect(card.body).toEqual([
      expect.objectContaining({ type: 'TextBlock', text: 'staging is about to stop', wrap: true }),
      expect.objectContaining({ type: 'TextBlock', text: warning.text, wrap: true }),
      {
        type: 'FactSet',
        facts: [
          { title: 'Environment', value: 'staging' },
          { title: 'Team', value: 'payments' },
          { title: 'Stops at', value: '19:00 UTC' },
          { title: 'Why', value: 'schedule "evenings"' },
          { title: 'Resources', value: 'ec2:i-1, rds:db-1' },
          { title: 'Cancelling keeps it on until', value: '21:00 UTC' },
          // No action links: the warning says how to cancel without them.
          {
            title: 'To cancel',
            value: 'lightsout cancel run-42 --config FILE, or POST /api/v1/runs/run-42/cancel',
          },
          { title: 'Run', value: 'run-42' },
        ],
      },
    ]);
  });
});

describe('TeamsChannel legacy connector answers', () => {
  const teams = () => new TeamsChannel({ name: 'ops', url: receiver.url + TEAMS_PATH });

  it('a 202 with an empty body (Workflows) is delivered', async () => {
    respond = { status: 202, body: '' };
    await teams().send(warning);
    expect(receiver.received).toHaveLength(1);
  });

  it('a 200 that says delivery failed with a 429 is a DeliveryError, not permanent', async () => {
    respond = {
      status: 200,
      body: 'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 429 with ContextId tcid=0',
    };
    const error = await failure(teams());
    expect(error.permanent).toBe(false);
    expect(error.message).toMatch(
      /could not deliver the card \(Teams got HTTP 429\); will try again/,
    );
    expectNoSecret(error, TEAMS_PATH);
  });

  it('a 200 that says delivery failed with a 400 is permanent', async () => {
    respond = {
      status: 200,
      body: 'Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 400',
    };
    const error = await failure(teams());
    expect(error.permanent).toBe(true);
  });
});

describe('GoogleChatChannel', () => {
  it('posts a cardsV2 card with a header and one widget per fact, plus a text fallback', async () => {
    await new GoogleChatChannel({ name: 'ops', url: receiver.url + CHAT_PATH }).send(warning);
    const request = only();
    expect(request.url).toBe(CHAT_PATH);
    expect(request.headers['content-type']).toBe('application/json; charset=UTF-8');
    const message = JSON.parse(request.body) as {
      text: string;
      cardsV2: { cardId: string; card: { header: unknown; sections: { widgets: unknown[] }[] } }[];
    };
    expect(message.text).toBe(`*staging is about to stop*\n${warning.text}`);
    expect(message.cardsV2).toHaveLength(1);
    const [{ cardId, card }] = message.cardsV2 as [(typeof message.cardsV2)[number]];
    expect(cardId).toMatch(/^[\w-]+$/);
    expect(card.header).toEqual({ title: 'staging is about to stop', subtitle: 'staging' });
    expect(card.sections).toHaveLength(1);
    const widgets = card.sections[0]!.widgets;
    expect(widgets[0]).toEqual({ textParagraph: { text: warning.text } });
    expect(widgets.slice(1)).toEqual([
      { decoratedText: { topLabel: 'Environment', text: 'staging', wrapText: true } },
      { decoratedText: { topLabel: 'Team', text: 'payments', wrapText: true } },
      { decoratedText: { topLabel: 'Stops at', text: '19:00 UTC', wrapText: true } },
      { decoratedText: { topLabel: 'Why', text: 'schedule "evenings"', wrapText: true } },
      { decoratedText: { topLabel: 'Resources', text: 'ec2:i-1, rds:db-1', wrapText: true } },
      {
        decoratedText: {
          topLabel: 'Cancelling keeps it on until',
          text: '21:00 UTC',
          wrapText: true,
        },
      },
      {
        decoratedText: {
          topLabel: 'To cancel',
          text: 'lightsout cancel run-42 --config FILE, or POST /api/v1/runs/run-42/cancel',
          wrapText: true,
        },
      },
      { decoratedText: { topLabel: 'Run', text: 'run-42', wrapText: true } },
    ]);
  });

  it('escapes HTML in card text (card text is HTML-formatted)', async () => {
    await new GoogleChatChannel({ name: 'ops', url: receiver.url + CHAT_PATH }).send(summary);
    const body = only().body;
    expect(body).toContain('"topLabel":"Environment","text":"dev &lt;lab&gt;"');
    expect(body).not.toContain('"text":"dev <lab>"');
  });
});

/** Everything that identifies a secret: URL paths, query tokens, the signing secret. */
function expectNoSecret(error: unknown, path: string) {
  const shown = [
    String(error),
    (error as Error).message,
    (error as Error).stack ?? '',
    inspect(error, { depth: 5 }),
    JSON.stringify(error),
  ].join('\n');
  for (const secret of [
    receiver.url + path,
    path,
    path.split('?')[0]!,
    ...(path
      .split('?')[1]
      ?.split('&')
      .map((pair) => pair.split('=')[1]!) ?? []),
    'HOOK-PATH-SECRET',
    SECRET,
  ])
    expect(shown).not.toContain(secret);
}

async function failure(channel: Channel): Promise<DeliveryError> {
  const error = await channel.send(warning).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  return error as DeliveryError;
}

describe.each(channels)('%s channel failures', (kind, make, path) => {
  it.each([
    [401, true, /refused.*check/],
    [403, true, /refused.*check/],
    [404, true, /does not exist \(.*deleted\?\)/],
    [410, true, /does not exist/],
    [400, true, /rejected the message/],
    [429, false, /throttling.*try again/],
    [500, false, /failed \(HTTP 500\).*try again/],
    [503, false, /HTTP 503/],
  ])('HTTP %i is a DeliveryError, permanent %s', async (status, permanent, pattern) => {
    respond = { status };
    const error = await failure(make());
    expect(error.permanent).toBe(permanent);
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain(`HTTP ${status}`);
    expect(error.message).toContain(
      kind === 'google-chat' ? 'Google Chat' : kind === 'teams' ? 'Teams' : 'webhook',
    );
    expectNoSecret(error, path);
  });

  it('a receiver that does not answer times out, not permanent', async () => {
    respond = { status: 200, hang: true };
    const started = Date.now();
    const error = await failure(make());
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.permanent).toBe(false);
    expect(error.message).toMatch(/no answer within 300 ms/);
    expectNoSecret(error, path);
  });

  it('a redirect is permanent and not followed', async () => {
    respond = { status: 302 };
    const error = await failure(make());
    expect(error.permanent).toBe(true);
    expect(error.message).toMatch(/redirect/);
    expectNoSecret(error, path);
  });

  it('a closed port is a network error, not permanent', async () => {
    const url = `${await closedPortUrl()}${path}`;
    const channel =
      kind === 'webhook'
        ? webhook({ url })
        : kind === 'teams'
          ? new TeamsChannel({ name: 'ops', url })
          : new GoogleChatChannel({ name: 'ops', url });
    const error = await failure(channel);
    expect(error.permanent).toBe(false);
    expect(error.message).toMatch(/could not reach the receiver \(ECONNREFUSED\)/);
    expect(error.message).not.toContain(url);
    expectNoSecret(error, path);
  });

  it('an invalid URL is permanent and not shown', async () => {
    const url = `not a url ${path}`;
    const channel =
      kind === 'webhook'
        ? webhook({ url })
        : kind === 'teams'
          ? new TeamsChannel({ name: 'ops', url })
          : new GoogleChatChannel({ name: 'ops', url });
    const error = await failure(channel);
    expect(error.permanent).toBe(true);
    expect(error.message).toMatch(/not a valid http\(s\) URL/);
    expectNoSecret(error, path);
  });

  it('the channel object does not show its URL or secret when logged', () => {
    const channel = make();
    const shown = inspect(channel, { depth: 5 }) + JSON.stringify(channel);
    expect(shown).not.toContain(path.split('?')[0]!);
    expect(shown).not.toContain(SECRET);
    expect(channel.kind).toBe(kind);
  });
});
