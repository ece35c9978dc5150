/**
 * No secret anywhere: a real service (startService) configured with every channel
 * kind and the switches, each secret a distinctive value given through
 * `${VARIABLE}` or `file:`, goes through a story: warnings and run reports to
 * local receivers (HTTP and SMTP), channels that refuse (a webhook answering 500,
 * an SMTP server refusing the login, an SNS endpoint refusing the publish) whose
 * errors are logged and recorded, `lint`, `notify test` on failing and working
 * channels, API answers (runs, events, environments, metrics) and the NDJSON
 * event stream, the warning's action links opened and followed. Every log line,
 * event, notice row, API answer, CLI output and message received is captured;
 * the test fails naming where a secret turned up.
 *
 * A receiver needs some secrets to do its job: the URL of a webhook channel is its
 * address (the receiver sees it as the request path), the SMTP login travels in
 * the AUTH command, a signature header is derived from the HMAC secret. Those are
 * not captured; everything else a receiver got is.
 *
 * The key lightsout signs the warnings' action links with (kept in the store) is
 * checked too.
 *
 * The switches are called too: the Slack app's command and a signed hook, each
 * signed, forged and replayed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { newToken } from '../../src/api/tokens.js';
import { createLogger } from '../../src/app/logger.js';
import { startService } from '../../src/app/service.js';
import type { Service } from '../../src/app/service.js';
import { loadConfigFile } from '../../src/config/load.js';
import { signWebhook } from '../../src/notify/webhook.js';
import { slackSignature } from '../../src/switches/slack-signature.js';
import type { Clock } from '../../src/engine/ports.js';
import { cli } from '../cli/run.js';
import { at } from '../helpers.js';
import { waitFor } from '../process/serve.js';
import { DATABASES } from '../store/databases.js';
import { httpReceiver } from '../support/http-receiver.js';

/** A distinctive secret: what the test greps for. */
const secret = (label: string) => `${label}-${randomBytes(9).toString('hex')}`;

const SECRETS = {
  slackPath: secret('SLACKHOOKsecret'),
  slackBotToken: `xoxb-${secret('SLACKBOTsecret')}`,
  teamsPath: secret('TEAMSsecret'),
  chatKey: secret('CHATKEYsecret'),
  hookSecret: secret('HOOKHMACsecret'),
  downHookSecret: secret('DOWNHOOKsecret'),
  smtpUser: secret('SMTPUSERsecret'),
  smtpPassword: secret('SMTPPASSWORDsecret'),
  wrongSmtpPassword: secret('WRONGSMTPPASSWORDsecret'),
  awsSecretKey: secret('AWSSECRETKEYsecret'),
  signingSecret: secret('SLACKSIGNINGsecret'),
  slackAppToken: `xoxb-${secret('SLACKAPPTOKENsecret')}`,
  buttonSecret: secret('BUTTONHOOKsecret'),
  inlineUrlPath: secret('INLINEURLsecret'),
};

/** Headers a receiver gets that carry a secret by design, or a value derived from one. */
const NEEDED_HEADERS = new Set(['authorization', 'x-lightsout-signature', 'x-amz-security-token']);

/** One HTTP receiver for every web channel: by path, 200, or a refusal (a webhook that is down, SNS). */
const webReceiver = () =>
  httpReceiver(({ url: path, body }, response) => {
    if (path.startsWith('/down')) response.writeHead(500).end('internal error, try later');
    else if (path === '/' && body.includes('Action=Publish'))
      // The SNS Query API's error shape (https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html).
      response
        .writeHead(403, { 'content-type': 'text/xml' })
        .end(
          '<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code>' +
            '<Message>User is not authorized to perform SNS:Publish</Message></Error>' +
            '<RequestId>r-1</RequestId></ErrorResponse>',
        );
    else response.writeHead(200).end('ok');
  });

/** An SMTP server that takes one login and records each message as it came (raw). */
async function smtpReceiver() {
  const received: string[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, _session, callback) {
      if (auth.username === SECRETS.smtpUser && auth.password === SECRETS.smtpPassword)
        callback(null, { user: 'mailer' });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      stream.on('end', () => {
        received.push(raw);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  return { port, received, close };
}

/** A clock the test moves; the service's loop sleeps until the test moves it past its wake-up. */
class ManualClock implements Clock {
  private sleepers: { until: number; wake: () => void }[] = [];
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
    const due = this.sleepers.filter((s) => s.until <= t);
    this.sleepers = this.sleepers.filter((s) => s.until > t);
    for (const s of due) s.wake();
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0 || signal?.aborted === true) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = { until: this.t + ms, wake: resolve };
      this.sleepers.push(sleeper);
      signal?.addEventListener('abort', () => {
        this.sleepers = this.sleepers.filter((s) => s !== sleeper);
        resolve();
      });
    });
  }
}

/** A writable that keeps every log line. */
function logCapture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  return { lines, stream };
}

function configText(web: string, smtpPort: number, files: Record<string, string>) {
  return `
version: 1
timezone: UTC
public_url: http://lightsout.example.test
schedules:
  office-hours:
    periods:
      - { days: mon-fri, start: "08:00", stop: "18:00" }
teams:
  payments: { notify: [slack, teams] }
environments:
  dev:
    team: payments
    schedule: office-hours
    grace: 15m
    notify: [chat, hook, hook-down, mail, mail-wrong, topic]
    select: { provider: sandbox, tags: { env: dev } }
notifiers:
  slack: { type: slack, webhook_url: "\${LEAK_SLACK_WEBHOOK_URL}" }
  slack-bot: { type: slack, token: "file:${files.slackBotToken}", channel: "#ops" }
  teams: { type: teams, url: "\${LEAK_TEAMS_URL}" }
  chat: { type: google-chat, url: "file:${files.chatUrl}" }
  chat-inline: { type: google-chat, url: "${web}/inline/${SECRETS.inlineUrlPath}" }
  hook: { type: webhook, url: "${web}/hook", secret: "\${LEAK_HOOK_SECRET}" }
  hook-down: { type: webhook, url: "${web}/down", secret: "file:${files.downHookSecret}" }
  mail:
    type: email
    host: 127.0.0.1
    port: ${smtpPort}
    security: none
    username: "\${LEAK_SMTP_USER}"
    password: "file:${files.smtpPassword}"
    from: lightsout@example.test
    to: ops@example.test
  mail-wrong:
    type: email
    host: 127.0.0.1
    port: ${smtpPort}
    security: none
    username: "\${LEAK_SMTP_USER}"
    password: "file:${files.wrongSmtpPassword}"
    from: lightsout@example.test
    to: ops@example.test
  topic: { type: sns, topic_arn: "arn:aws:sns:eu-west-3:123456789012:lightsout" }
switches:
  slack:
    signing_secret: "\${LEAK_SLACK_SIGNING_SECRET}"
    token: "file:${files.slackAppToken}"
    users:
      - { user: U0LEAKTEST, role: operator, team: payments }
      - { email: "*@example.test", role: operator, team: payments }
  hooks:
    button:
      type: signed
      secret: "\${LEAK_BUTTON_SECRET}"
      do: { action: stop, environment: dev, grace: 10m }
sandbox:
  resources:
    - { kind: ec2, name: dev-web, tags: { env: dev } }
`;
}

describe.each(DATABASES)('no secret anywhere, on $name', (database) => {
  const closers: (() => unknown)[] = [];
  let web: Awaited<ReturnType<typeof webReceiver>>;
  let smtp: Awaited<ReturnType<typeof smtpReceiver>>;
  let configPath: string;

  beforeAll(async () => {
    web = await webReceiver();
    smtp = await smtpReceiver();
    closers.push(web.close, smtp.close);
    const dir = mkdtempSync(join(tmpdir(), 'lightsout-secrets-'));
    const file = (name: string, value: string) => {
      const path = join(dir, name);
      writeFileSync(path, `${value}\n`, { mode: 0o600 });
      return path;
    };
    const files = {
      slackBotToken: file('slack-bot-token', SECRETS.slackBotToken),
      chatUrl: file('chat-url', `${web.url}/chat/v1/spaces/AAA/messages?key=${SECRETS.chatKey}`),
      downHookSecret: file('down-hook-secret', SECRETS.downHookSecret),
      smtpPassword: file('smtp-password', SECRETS.smtpPassword),
      wrongSmtpPassword: file('wrong-smtp-password', SECRETS.wrongSmtpPassword),
      slackAppToken: file('slack-app-token', SECRETS.slackAppToken),
    };
    const variables = {
      LEAK_SLACK_WEBHOOK_URL: `${web.url}/services/T0/B0/${SECRETS.slackPath}`,
      LEAK_TEAMS_URL: `${web.url}/teams/${SECRETS.teamsPath}`,
      LEAK_HOOK_SECRET: SECRETS.hookSecret,
      LEAK_SMTP_USER: SECRETS.smtpUser,
      LEAK_SLACK_SIGNING_SECRET: SECRETS.signingSecret,
      LEAK_BUTTON_SECRET: SECRETS.buttonSecret,
      // The SNS channel's client, with the default credential chain, sent to the local
      // receiver: the SDK's service-specific endpoint variable
      // (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: SECRETS.awsSecretKey,
      AWS_ENDPOINT_URL_SNS: web.url,
    };
    for (const [name, value] of Object.entries(variables)) vi.stubEnv(name, value);
    configPath = join(dir, 'lightsout.yaml');
    writeFileSync(configPath, configText(web.url, smtp.port, files));
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it('no log line, event, notice, API answer, CLI output or message carries a configured secret', async () => {
    const captured: { where: string; text: string }[] = [];
    const capture = (where: string, value: unknown) =>
      captured.push({ where, text: typeof value === 'string' ? value : JSON.stringify(value) });

    const loaded = await loadConfigFile(configPath);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    const log = logCapture();
    const clock = new ManualClock(at('2026-06-01T17:40Z'));
    const db = database.url();
    const service: Service = await startService({
      config: loaded.config,
      db,
      clock,
      log: createLogger(log.stream, 'debug'),
      port: 0,
      host: '127.0.0.1',
      settleScale: 0.001,
    });
    closers.push(() => service.stop());
    const { store } = service;
    const events = async () => (await store.queryEvents({}, { limit: 1_000 })).events;
    const eventKinds = async (kind: string) =>
      (await events()).filter((e) => e.kind === kind).map((e) => e.payload);

    // The warning, 15 minutes ahead: delivered where channels take it, refused where not.
    clock.set(at('2026-06-01T17:45Z'));
    await waitFor('the warning on every channel', async () => {
      const sent = await eventKinds('notice.sent');
      const failed = await eventKinds('notice.failed');
      const done = (channel: string) =>
        [...sent, ...failed].some(
          (p) => p['channel'] === channel && p['notice'] === 'stop-warning',
        );
      return ['slack', 'teams', 'chat', 'hook', 'hook-down', 'mail', 'mail-wrong', 'topic'].every(
        done,
      );
    });
    // The retries of the refusing channels, then the stop and its report. The run polls
    // its resources on the service's clock: time moves on while the test waits.
    for (const time of ['17:46', '17:47', '17:50', '18:00']) clock.set(at(`2026-06-01T${time}Z`));
    await waitFor('the run report on the channels that take it', async () => {
      clock.set(clock.now() + 5_000);
      const sent = await eventKinds('notice.sent');
      return ['slack', 'teams', 'chat', 'hook', 'mail'].every((channel) =>
        sent.some((p) => p['channel'] === channel && p['notice'] === 'run-summary'),
      );
    });

    // The story happened: messages reached the receivers, refusals were logged and recorded.
    expect(web.received.some((r) => r.url === '/hook')).toBe(true);
    expect(web.received.some((r) => r.url.startsWith('/teams/'))).toBe(true);
    expect(web.received.some((r) => r.url.startsWith('/chat/'))).toBe(true);
    expect(web.received.some((r) => r.url.startsWith('/services/'))).toBe(true);
    expect(web.received.some((r) => r.body.includes('Action=Publish'))).toBe(true);
    expect(smtp.received.length).toBeGreaterThanOrEqual(2);
    const refused = (await eventKinds('notice.failed')).map((p) => p['channel']);
    expect(refused).toEqual(expect.arrayContaining(['hook-down', 'mail-wrong', 'topic']));
    expect(log.lines.some((l) => l.includes('a notice could not be sent'))).toBe(true);

    // The API: runs, one run, events (a page and the NDJSON stream), environments, metrics.
    const { token, hash } = newToken();
    await store.addToken(
      { id: 'leak-admin', name: 'leak-admin', role: 'admin', hash },
      clock.now(),
    );
    const base = `http://127.0.0.1:${service.port}`;
    const get = async (path: string, accept = 'application/json') => {
      const response = await fetch(`${base}${path}`, {
        headers: { authorization: `Bearer ${token}`, accept },
      });
      const text = await response.text();
      expect(response.status, `${path}: ${text.slice(0, 200)}`).toBe(200);
      capture(`GET ${path}`, text);
      return text;
    };
    const runs = JSON.parse(await get('/api/v1/runs')) as { runs?: { id: string }[] };
    const runIds = (runs.runs ?? []).map((r) => r.id);
    expect(runIds.length).toBeGreaterThan(0);
    for (const id of runIds) await get(`/api/v1/runs/${id}`);
    await get('/api/v1/events?limit=1000');
    const stream = await get('/api/v1/events', 'application/x-ndjson');
    expect(stream).toContain('notice.failed');
    await get('/api/v1/environments');
    await get('/api/v1/environments/dev');
    await get('/metrics', 'text/plain');

    // The warning's action links, opened and followed after the stop happened (a refusal page).
    const warning = web.received.find((r) => r.url === '/hook' && r.body.includes('stop-warning'));
    const actions = (JSON.parse(warning!.body) as { details: { actions?: { url: string }[] } })
      .details.actions;
    expect(actions?.length).toBeGreaterThan(0);
    for (const { url } of actions ?? []) {
      const { pathname, search } = new URL(url);
      const path = `${pathname}${search}`;
      for (const method of ['GET', 'POST']) {
        const response = await fetch(`${base}${path}`, { method });
        capture(`${method} action link`, `${response.status} ${await response.text()}`);
      }
    }

    // The switches: the Slack app's command (signed, forged, replayed) and a signed hook
    // (valid, wrongly signed, replayed). Both check signatures against the wall clock.
    const switchPost = async (
      where: string,
      path: string,
      body: string,
      headers: Record<string, string>,
    ) => {
      const response = await fetch(`${base}${path}`, { method: 'POST', headers, body });
      capture(where, `${response.status} ${await response.text()}`);
      return response.status;
    };
    const slackForm = new URLSearchParams({
      command: '/lightsout',
      text: 'status dev',
      user_id: 'U0LEAKTEST',
      user_name: 'leak',
      response_url: 'https://hooks.slack.com/commands/T0/1/x',
    }).toString();
    const slackTs = String(Math.floor(Date.now() / 1000));
    const slackHeaders = (signingSecret: string) => ({
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': slackTs,
      'x-slack-signature': slackSignature(signingSecret, slackTs, slackForm),
    });
    const commands = '/hooks/slack/commands';
    expect(
      await switchPost('slack command', commands, slackForm, slackHeaders(SECRETS.signingSecret)),
    ).toBe(200);
    expect(
      await switchPost('slack replay', commands, slackForm, slackHeaders(SECRETS.signingSecret)),
    ).toBe(401);
    expect(
      await switchPost('slack forged', commands, slackForm, slackHeaders('not-the-secret')),
    ).toBe(401);
    const hookBody = JSON.stringify({ from: 'the leak test' });
    const hookTs = String(Math.floor(Date.now() / 1000));
    const hookHeaders = (hmacSecret: string) => ({
      'content-type': 'application/json',
      'x-lightsout-timestamp': hookTs,
      'x-lightsout-signature': signWebhook(hmacSecret, hookTs, hookBody),
    });
    const hookStatus = await switchPost(
      'hook',
      '/hooks/button',
      hookBody,
      hookHeaders(SECRETS.buttonSecret),
    );
    expect([202, 409]).toContain(hookStatus);
    expect(
      await switchPost('hook replay', '/hooks/button', hookBody, hookHeaders(SECRETS.buttonSecret)),
    ).toBe(401);
    expect(
      await switchPost('hook forged', '/hooks/button', hookBody, hookHeaders('not-the-secret')),
    ).toBe(401);

    // The CLI: lint, and notify test on a working channel and on each refusing one.
    const lint = await cli(['lint', '--config', configPath]);
    capture('lightsout lint', lint);
    // lint names the secret written inline, without printing it.
    expect(lint.out + lint.err).toContain('chat-inline');
    for (const [channel, code] of [
      ['hook', 0],
      ['mail', 0],
      ['hook-down', 4],
      ['mail-wrong', 4],
      ['topic', 4],
    ] as const) {
      const result = await cli(['notify', 'test', channel, '--config', configPath]);
      capture(`lightsout notify test ${channel}`, result);
      expect(result.code, `notify test ${channel}: ${result.out}${result.err}`).toBe(code);
    }

    // The CLI's views of the store the service writes.
    for (const command of [['status'], ['runs'], ['events', '--limit', '1000']]) {
      const args = [...command, '--config', configPath, '--db', db];
      const result = await cli(args);
      capture(`lightsout ${command[0]!}`, result);
      expect(result.code, `lightsout ${command[0]!}: ${result.err}`).toBe(0);
    }

    // Everything the service recorded and everyone received.
    for (const line of log.lines) capture('log', line);
    capture('events', await events());
    for (const id of runIds) {
      capture(`run ${id}`, await store.getRun(id));
      capture(`notices of ${id}`, await store.listNotices(id));
    }
    for (const r of web.received)
      capture(`received ${r.url.split('/').slice(0, 2).join('/')}`, {
        headers: Object.fromEntries(
          Object.entries(r.headers).filter(([name]) => !NEEDED_HEADERS.has(name)),
        ),
        body: r.body,
      });
    for (const raw of smtp.received) capture('mail', raw);

    // The key the warnings' action links are signed with is made by lightsout, and as secret.
    const linkKeys = await store.db.selectFrom('link_keys').select('secret').execute();
    expect(linkKeys).toHaveLength(1);
    expect(web.received.some((r) => r.body.includes('/actions?token='))).toBe(true);
    const secrets = { ...SECRETS, linkKey: linkKeys[0]!.secret };
    const leaks = Object.entries(secrets).flatMap(([name, value]) =>
      captured
        .filter((c) => c.text.includes(value))
        .map(
          (c) =>
            `${name} in ${c.where}: …${c.text.slice(Math.max(0, c.text.indexOf(value) - 80), c.text.indexOf(value) + value.length + 20)}…`,
        ),
    );
    expect(leaks).toEqual([]);
    // The check can see a secret: the webhook URLs the receivers were called on carry theirs.
    expect(web.received.some((r) => r.url.includes(SECRETS.teamsPath))).toBe(true);
  }, 120_000);
});
