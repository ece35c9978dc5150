/**
 * A warning's action links, end to end on each database: the stop warning goes
 * through a real SMTP server, its links are read back from the parsed email and
 * followed against the real pages (a GET that changes nothing, then the form's
 * POST), and the engine carries out what they say, recording who did it. A link
 * acts once; a used, expired, forged or no-longer-applicable link gets a page
 * that says so and changes nothing.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { registerActionPages } from '../../src/api/action-pages.js';
import { API_SERVER_OPTIONS } from '../../src/api/api.js';
import type { Environment } from '../../src/core/glossary.js';
import type { Engine } from '../../src/engine/engine.js';
import { EmailChannel } from '../../src/notify/email.js';
import { ChannelNotifier } from '../../src/notify/router.js';
import type { Store } from '../../src/store/store.js';
import { ActionLinks } from '../../src/switches/action-links.js';
import { LinkingNotifier } from '../../src/switches/linking-notifier.js';
import { officeHours } from '../engine/fixtures.js';
import { harness } from '../engine/harness.js';
import { DATABASES } from '../store/databases.js';
import { closeSmtpServers, smtpServer } from '../support/smtp.js';
import type { ReceivedMail } from '../support/smtp.js';

const dev: Environment = {
  name: 'dev',
  timezone: 'Europe/Paris',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  notify: ['ops-mail'],
  tiers: [{ name: 'apps', select: [{ provider: 'sandbox', tags: { env: 'dev' } }] }],
};

/** The action links of an email, by label, from its plain-text part. */
function linksIn(mail: ReceivedMail): Map<string, string> {
  const text = mail.mail.text ?? '';
  const links = new Map<string, string>();
  for (const match of text.matchAll(/^(.+?):?\s*\n?\s*(http:\/\/\S+\/actions\?token=\S+)$/gm))
    links.set(match[1]!.trim().replace(/^[-*•]\s*/, ''), match[2]!);
  return links;
}

async function follow(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
  });
  return { status: response.status, body: await response.text() };
}

describe.each(DATABASES)('action links in a warning, on $name', (database) => {
  let store: Store | undefined;
  let http: FastifyInstance | undefined;
  afterEach(async () => {
    await http?.close();
    await closeSmtpServers();
    await store?.close();
    store = undefined;
  });

  async function story() {
    const smtp = await smtpServer();
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [dev],
      seeds: [{ kind: 'ec2', name: 'dev-web', tags: { env: 'dev' } }],
      start: '2026-06-01T17:00Z',
    });
    // The pages' address is known once they listen; the links are made after.
    const late: { links?: ActionLinks; engine?: Engine } = {};
    http = Fastify(API_SERVER_OPTIONS);
    registerActionPages(http, {
      preview: (token) => late.links!.preview(token),
      use: (token, actor) => late.links!.use(token, actor),
      pageActor: (token) => late.links!.pageActor(token),
    });
    await http.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(http.server.address() as AddressInfo).port}`;
    const links = new ActionLinks({
      store,
      engine: () => late.engine!,
      environments: new Map([[dev.name, dev]]),
      publicUrl: base,
      audiences: new Map([['ops-mail', 'email to ops@example.com']]),
      now: () => h.clock.now(),
    });
    const email = new EmailChannel({
      name: 'ops-mail',
      host: '127.0.0.1',
      port: smtp.port,
      secure: 'none',
      from: 'lightsout@example.com',
      to: ['ops@example.com'],
    });
    const notifier = new LinkingNotifier(
      new ChannelNotifier(pino({ level: 'silent' }), new Map([['ops-mail', email]])),
      links,
    );
    late.links = links;
    const engine = h.makeEngine('test', undefined, { notifier });
    late.engine = engine;
    return { h, engine, mails: smtp.received, base };
  }

  it('keeps it running an hour from the email; the stop comes an hour later after a second warning', async () => {
    const { h, engine, mails } = await story();
    await h.tickAt('2026-06-01T17:45Z', engine);
    expect(mails).toHaveLength(1);
    const first = linksIn(mails[0]!);
    expect([...first.keys()]).toEqual([
      'Keep running 1 h',
      'Keep running until the next scheduled start',
      'Stop now',
    ]);
    expect(mails[0]!.mail.html).toContain(first.get('Keep running 1 h'));

    // Opening the link (a mail scanner does) only asks to confirm.
    const page = await fetch(first.get('Keep running 1 h')!);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post">');
    expect(html).toContain('keep it running until 21:00 Europe/Paris (19:00 UTC)');
    expect((await store!.listRuns({ environment: 'dev' }))[0]!.status).toBe('grace');

    const kept = await follow(first.get('Keep running 1 h')!);
    expect(kept.status).toBe(200);
    expect(kept.body).toContain('dev keeps running until 21:00 Europe/Paris (19:00 UTC)');
    const [cancelled] = await store!.listRuns({ environment: 'dev' });
    expect(cancelled!.status).toBe('cancelled');
    const cancelEvents = await store!.queryEvents({ kind: 'run.cancelled' });
    expect(cancelEvents.events.map((e) => e.actor)).toEqual(['link from email to ops@example.com']);

    // The same link again, and another link of the same warning: nothing changes.
    const again = await follow(first.get('Keep running 1 h')!);
    expect(again.status).toBe(410);
    expect(again.body).toContain('already used by link from email to ops@example.com');
    const stopNow = await follow(first.get('Stop now')!);
    expect(stopNow.status).toBe(409);
    expect(stopNow.body).toContain('was called off');

    await h.tickAt('2026-06-01T18:00Z', engine);
    expect((await h.states())['dev-web']).toBe('on');
    await h.tickAt('2026-06-01T18:45Z', engine);
    expect(mails).toHaveLength(2);
    await h.tickAt('2026-06-01T19:00Z', engine);
    expect((await h.states())['dev-web']).toBe('off');

    // After its stop was due, the first warning's unused link has expired.
    const late = await follow(first.get('Keep running until the next scheduled start')!);
    expect(late.status).toBe(410);
    expect(late.body).toContain('expired');
  });

  it('keeps it running until the next scheduled start, or stops it now', async () => {
    const { h, engine, mails } = await story();
    await h.tickAt('2026-06-01T17:45Z', engine);
    const kept = await follow(
      linksIn(mails[0]!).get('Keep running until the next scheduled start')!,
    );
    expect(kept.body).toContain(
      'dev keeps running until its next scheduled start, Tue 2 Jun 10:00 Europe/Paris (08:00 UTC)',
    );
    await h.tickAt('2026-06-01T18:00Z', engine);
    await h.tickAt('2026-06-02T07:00Z', engine);
    expect((await h.states())['dev-web']).toBe('on');

    // Tuesday's warning: stop now.
    await h.tickAt('2026-06-02T17:45Z', engine);
    expect(mails).toHaveLength(2);
    const stopped = await follow(linksIn(mails[1]!).get('Stop now')!);
    expect(stopped.status).toBe(200);
    expect(stopped.body).toContain('dev stops now');
    await h.tickAt('2026-06-02T17:46Z', engine);
    expect((await h.states())['dev-web']).toBe('off');
    const stops = (await store!.listRuns({ environment: 'dev' })).filter(
      (r) => r.status === 'succeeded' && r.direction === 'stop',
    );
    expect(stops.map((r) => r.actor)).toEqual(['link from email to ops@example.com']);
  });

  it('refuses a forged or cut link and changes nothing', async () => {
    const { h, engine, mails, base } = await story();
    await h.tickAt('2026-06-01T17:45Z', engine);
    const link = linksIn(mails[0]!).get('Stop now')!;
    const token = new URL(link).searchParams.get('token')!;
    const [payload] = token.split('.');
    const forged = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { a: string };
    forged.a = 'keep-1h';
    const forgedToken = `${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${token.split('.')[1]!}`;
    for (const url of [
      `${base}/actions?token=${forgedToken}`,
      `${base}/actions?token=${token.slice(0, -3)}`,
      `${base}/actions?token=nonsense`,
      `${base}/actions`,
    ]) {
      const answer = await follow(url);
      expect(answer.status).toBe(404);
      expect(answer.body).toContain('This link is not valid');
    }
    expect((await store!.listRuns({ environment: 'dev' }))[0]!.status).toBe('grace');
  });
});
