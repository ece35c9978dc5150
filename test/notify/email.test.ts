/**
 * The email channel against a real SMTP server (smtp-server, in this process, on
 * 127.0.0.1 port 0), with each message parsed back by mailparser: subject, both
 * parts, escaping of user-written values, action links, plain, STARTTLS and TLS
 * connections, logins, refused recipients, and no password in any error.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { Notice } from '../../src/engine/ports.js';
import { CHANNEL_TIMEOUT_MS, DeliveryError } from '../../src/notify/channel.js';
import { EmailChannel } from '../../src/notify/email.js';
import type { EmailChannelOptions } from '../../src/notify/email.js';
import { closeSmtpServers, smtpServer as smtp } from '../support/smtp.js';

const PASSWORD = 'hunter2-S3cr3t!pw';

afterEach(closeSmtpServers);

const notice: Notice = {
  kind: 'stop-warning',
  environment: 'staging <eu> & "friends"',
  team: "o'brien",
  runId: 'run-42',
  text: 'staging stops in 15 minutes. <script>alert(1)</script>',
  at: Date.parse('2026-11-30T22:45:00Z'),
  details: {
    actAt: '23:00 UTC',
    trigger: 'schedule weeknights',
    actions: [
      { label: 'Keep it on <1h>', url: 'https://lightsout.example/keep?run=run-42&for=1h' },
      { label: 'Not a link', url: 'javascript:alert(1)' },
    ],
  },
};

function channel(port: number, options: Partial<EmailChannelOptions> = {}): EmailChannel {
  return new EmailChannel({
    name: 'ops-mail',
    host: '127.0.0.1',
    port,
    secure: 'none',
    from: 'lightsout@example.com',
    to: ['ops@example.com', 'oncall@example.com'],
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryError);
  const delivery = error as DeliveryError;
  // No secret anywhere in the error, its cause included.
  expect(inspect(delivery, { depth: 10 })).not.toContain(PASSWORD);
  expect(JSON.stringify(delivery)).not.toContain(PASSWORD);
  return delivery;
}

describe('EmailChannel', () => {
  it('sends the title as subject, a text and an HTML part with the facts and the links', async () => {
    const { port, received } = await smtp();
    const c = channel(port);
    expect(c.kind).toBe('email');
    expect(c.name).toBe('ops-mail');
    await c.send(notice);
    expect(received).toHaveLength(1);
    const { mail, from, to } = received[0]!;
    expect(from).toBe('lightsout@example.com');
    expect(to).toEqual(['ops@example.com', 'oncall@example.com']);
    expect(mail.subject).toBe('staging <eu> & "friends" is about to stop');

    const text = mail.text ?? '';
    expect(text).toContain('staging stops in 15 minutes. <script>alert(1)</script>');
    expect(text).toContain('Environment: staging <eu> & "friends"');
    expect(text).toContain("Team: o'brien");
    expect(text).toContain('Stops at: 23:00 UTC');
    expect(text).toContain('Run: run-42');
    expect(text).toContain('Keep it on <1h>: https://lightsout.example/keep?run=run-42&for=1h');
    expect(text).not.toContain('javascript:');

    const html = typeof mail.html === 'string' ? mail.html : '';
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('staging &lt;eu&gt; &amp; &quot;friends&quot; is about to stop');
    expect(html).toContain('o&#39;brien');
    expect(html).toContain(
      '<a href="https://lightsout.example/keep?run=run-42&amp;for=1h">Keep it on &lt;1h&gt;</a>',
    );
    expect(html).not.toContain('javascript:');
    expect(html).toContain('23:00 UTC');
  });

  it('leaves the links out when the notice has none', async () => {
    const { port, received } = await smtp();
    await channel(port).send({ ...notice, kind: 'run-summary', details: {} });
    const { mail } = received[0]!;
    expect(mail.subject).toBe('staging <eu> & "friends": run report');
    expect(mail.html).not.toContain('<a ');
    expect(mail.text).not.toContain('http');
  });

  it('logs in with the username and password', async () => {
    const { port, received } = await smtp({
      authOptional: false,
      onAuth(auth, _session, callback) {
        if (auth.username === 'mailer' && auth.password === PASSWORD)
          callback(null, { user: 'mailer' });
        else callback(new Error('Invalid username or password'));
      },
    });
    await channel(port, { username: 'mailer', password: PASSWORD }).send(notice);
    expect(received).toHaveLength(1);
    expect(received[0]!.user).toBe('mailer');
  });

  it('says a wrong password was refused, permanently, without the password', async () => {
    const { port, received } = await smtp({
      authOptional: false,
      onAuth(_auth, _session, callback) {
        callback(new Error(`Invalid username or password`));
      },
    });
    const e = await failure(channel(port, { username: 'mailer', password: PASSWORD }).send(notice));
    expect(e.permanent).toBe(true);
    expect(e.message).toContain('the SMTP server refused the username or password');
    expect(e.message).not.toContain(PASSWORD);
    expect(received).toHaveLength(0);
  });

  it('says a login is needed when the server wants one and none is configured', async () => {
    const { port } = await smtp({
      authOptional: false,
      onAuth(_auth, _session, callback) {
        callback(new Error('no'));
      },
    });
    const e = await failure(channel(port).send(notice));
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/requires a login/);
  });

  it('names a refused recipient in a permanent error, and retries a deferred one', async () => {
    const refusing = await smtp({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('No such user'), { responseCode: 550 }));
      },
    });
    const refused = await failure(
      channel(refusing.port, { to: ['nobody@example.com'] }).send(notice),
    );
    expect(refused.permanent).toBe(true);
    expect(refused.message).toContain('nobody@example.com');
    expect(refused.message).toContain('550');

    const deferring = await smtp({
      onRcptTo(_address, _session, callback) {
        callback(Object.assign(new Error('Mailbox busy'), { responseCode: 450 }));
      },
    });
    const deferred = await failure(channel(deferring.port).send(notice));
    expect(deferred.permanent).toBe(false);
  });

  it('does not send twice when only some recipients were refused', async () => {
    const { port, received } = await smtp({
      onRcptTo(address, _session, callback) {
        if (address.address === 'gone@example.com')
          callback(Object.assign(new Error('No such user'), { responseCode: 550 }));
        else callback();
      },
    });
    const e = await failure(
      channel(port, { to: ['ops@example.com', 'gone@example.com'] }).send(notice),
    );
    expect(e.permanent).toBe(true);
    expect(e.message).toContain('gone@example.com');
    expect(received).toHaveLength(1);
    expect(received[0]!.to).toEqual(['ops@example.com']);
  });

  it('treats a refused connection as worth retrying', async () => {
    const { port } = await smtp();
    await closeSmtpServers();
    const e = await failure(channel(port, { username: 'mailer', password: PASSWORD }).send(notice));
    expect(e.permanent).toBe(false);
    expect(e.message).toMatch(/could not connect/);
  });

  it('upgrades with STARTTLS when required, and checks the certificate by default', async () => {
    const { port, received } = await smtp();
    await channel(port, { secure: 'starttls', rejectUnauthorized: false }).send(notice);
    expect(received).toHaveLength(1);

    // smtp-server's built-in certificate is self-signed.
    const e = await failure(channel(port, { secure: 'starttls' }).send(notice));
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/certificate/);
  });

  it('refuses to go on in plain text when STARTTLS is required and not offered', async () => {
    const { port, received } = await smtp({ disabledCommands: ['STARTTLS'] });
    const e = await failure(channel(port, { secure: 'starttls' }).send(notice));
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/STARTTLS/);
    expect(received).toHaveLength(0);
  });

  it('connects with TLS from the first byte', async () => {
    const { port, received } = await smtp({ secure: true });
    await channel(port, { secure: 'tls', rejectUnauthorized: false }).send(notice);
    expect(received).toHaveLength(1);
  });

  it('says when TLS is configured for a server that speaks plain SMTP', async () => {
    const { port } = await smtp();
    const e = await failure(channel(port, { secure: 'tls' }).send(notice));
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/check secure/);
  });

  it(
    'gives up on a server that never greets, as worth retrying',
    async () => {
      const sockets: Socket[] = [];
      const silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as AddressInfo;
      try {
        const e = await failure(channel(port).send(notice));
        expect(e.permanent).toBe(false);
        expect(e.message).toMatch(/did not answer/);
      } finally {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => {
          silent.close(() => {
            resolve();
          });
        });
      }
    },
    CHANNEL_TIMEOUT_MS + 10_000,
  );

  it('bounds every connection with the channel timeout', () => {
    const c = channel(25);
    const options = (c as unknown as { transport: { options: Record<string, unknown> } }).transport
      .options;
    expect(options['connectionTimeout']).toBe(CHANNEL_TIMEOUT_MS);
    expect(options['greetingTimeout']).toBe(CHANNEL_TIMEOUT_MS);
    expect(options['socketTimeout']).toBe(CHANNEL_TIMEOUT_MS);
  });
});
