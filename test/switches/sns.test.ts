/**
 * `POST /hooks/sns/NAME`: Amazon SNS messages signed by a certificate generated
 * here (openssl), served by an injected fetcher in place of SNS's endpoint. A
 * genuine message acts once, however often SNS delivers it; a forged signature,
 * a certificate off the topic's SNS host, another topic or an old message do
 * nothing. The checks follow AWS's "Verifying the signatures of Amazon SNS
 * messages" (see src/switches/sns-messages.ts).
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Hook } from '../../src/switches/hooks.js';
import { snsHostOf } from '../../src/switches/sns-messages.js';
import type { SnsMessage } from '../../src/switches/sns-messages.js';
import { DATABASES } from '../store/databases.js';
import { serveHooks } from './served.js';

const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:buttons';
const CERT_URL = 'https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-0123.pem';
const SUBSCRIBE_TOKEN = '2336412f37fb687f5d51e6e241d164b0533302ec696efc8f113cd2252ce8a925';
const SUBSCRIBE_URL = `https://sns.eu-west-3.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=${SUBSCRIBE_TOKEN}`;

const hooks = new Map<string, Hook>([
  [
    'button',
    {
      type: 'sns',
      topicArn: TOPIC,
      field: 'clickType',
      when: {
        SINGLE: { action: 'reserve', environment: 'dev', for: 2 * 3_600_000 },
        DOUBLE: { action: 'stop', environment: 'dev' },
      },
    },
  ],
  ['ci', { type: 'signed', secret: 'x', do: { action: 'start', environment: 'dev' } }],
]);

/** A key and its self-signed certificate, made by the openssl CLI. */
function keyPair(name: string): { key: KeyObject; certificate: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-sns-'));
  const [key, cert] = [join(dir, `${name}.key`), join(dir, `${name}.pem`)];
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`,
  ], { stdio: 'ignore' }); // prettier-ignore
  return { key: createPrivateKey(readFileSync(key)), certificate: readFileSync(cert, 'utf8') };
}

let sns: { key: KeyObject; certificate: string };
let forger: { key: KeyObject; certificate: string };
beforeAll(() => {
  sns = keyPair('sns.amazonaws.com');
  forger = keyPair('forger');
});

type Unsigned = Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'> &
  Partial<SnsMessage>;

/**
 * The string SNS signs, written out from AWS's page rather than taken from the
 * code under test: "Name\nvalue\n" for each field present, in this order.
 */
function canonical(m: SnsMessage): string {
  const names =
    m.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const fields = m as unknown as Record<string, string | undefined>;
  return names
    .filter((name) => fields[name] !== undefined)
    .map((name) => `${name}\n${fields[name]}\n`)
    .join('');
}

/** `fields` signed as SNS signs them (version 1: SHA1withRSA, 2: SHA256withRSA). */
function signedBy(key: KeyObject, fields: Unsigned, version: '1' | '2' = '2'): SnsMessage {
  const message = { SignatureVersion: version, SigningCertURL: CERT_URL, ...fields } as SnsMessage;
  const signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(canonical(message)), key);
  return { ...message, Signature: signature.toString('base64') };
}

describe.each(DATABASES)('SNS hooks, on $name', (database) => {
  let served: Awaited<ReturnType<typeof serveHooks>> | undefined;
  let fetched: string[] = [];
  let certificateUp = true;
  afterEach(async () => {
    await served?.close();
    served = undefined;
    fetched = [];
    certificateUp = true;
  });

  const open = async () =>
    (served = await serveHooks(database, hooks, (url) => {
      fetched.push(url.href);
      if (url.href === CERT_URL)
        return certificateUp
          ? Promise.resolve(sns.certificate)
          : Promise.reject(new Error('ECONNRESET'));
      if (url.href === new URL(SUBSCRIBE_URL).href)
        return Promise.resolve('<ConfirmSubscriptionResponse/>');
      return Promise.reject(new Error(`unexpected fetch of ${url.href}`));
    }));

  const notification = (message: string, extra: Partial<SnsMessage> = {}): Unsigned => ({
    Type: 'Notification',
    MessageId: randomUUID(),
    TopicArn: TOPIC,
    Message: message,
    Timestamp: new Date(served!.clock.now()).toISOString(),
    ...extra,
  });

  const deliver = (message: SnsMessage) =>
    served!.post('/hooks/sns/button', JSON.stringify(message), {
      'content-type': 'text/plain; charset=UTF-8',
      'x-amz-sns-message-type': message.Type,
      'x-amz-sns-message-id': message.MessageId,
    });

  it('a subscription confirmation is verified, confirmed by a GET of its SubscribeURL, and logged', async () => {
    const s = await open();
    const confirmation = signedBy(
      sns.key,
      {
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        TopicArn: TOPIC,
        Token: SUBSCRIBE_TOKEN,
        Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
        SubscribeURL: SUBSCRIBE_URL,
        Timestamp: new Date(s.clock.now()).toISOString(),
      },
      '1',
    );
    const answer = await deliver(confirmation);
    expect(answer.status).toBe(200);
    expect(fetched).toEqual([CERT_URL, new URL(SUBSCRIBE_URL).href]);
    expect(s.logs.some((l) => l.includes('SNS: subscription confirmed'))).toBe(true);
    // The token confirms the subscription: whoever has it may; it stays out of answers and logs.
    expect(s.said()).not.toContain(SUBSCRIBE_TOKEN);
  });

  it("a notification's JSON message picks its action (version 2), recorded with its MessageId", async () => {
    const s = await open();
    const message = signedBy(
      sns.key,
      notification(JSON.stringify({ serialNumber: 'G030', clickType: 'SINGLE' })),
    );
    const answer = await deliver(message);
    expect(answer.status).toBe(200);
    expect(answer.body.said).toBe('dev is reserved: on now until 12:00 UTC');
    const reservations = await s.reservations();
    expect(reservations).toHaveLength(1);
    expect(reservations[0]!.actor).toBe(`sns:button (message ${message.MessageId})`);
  });

  it('a plain-text message is matched against the when values (version 1, with a Subject)', async () => {
    const s = await open();
    const answer = await deliver(
      signedBy(sns.key, notification('DOUBLE\n', { Subject: 'button' }), '1'),
    );
    expect(answer.status).toBe(200);
    expect(answer.body.said).toBe('dev stops at 10:15 UTC');
    const runs = await s.runs();
    expect(runs.map((r) => [r.direction, r.status])).toEqual([['stop', 'grace']]);
  });

  it('a delivery SNS retries (the same MessageId) acts once and answers as the first did', async () => {
    const s = await open();
    const message = signedBy(sns.key, notification('DOUBLE'));
    const first = await deliver(message);
    s.clock.set(s.clock.now() + 20_000);
    const retried = await deliver(message);
    expect(first.status).toBe(200);
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ ...first.body, again: true });
    expect(await s.runs()).toHaveLength(1);
    // The certificate was fetched once, for both.
    expect(fetched).toEqual([CERT_URL]);
  });

  it('a message that maps to nothing is 422, naming the field and its values', async () => {
    const s = await open();
    const answer = await deliver(signedBy(sns.key, notification('{"clickType":"LONG"}')));
    expect(answer.status).toBe(422);
    expect(answer.body.field).toBe('clickType');
    expect(answer.body.detail).toContain(
      '"LONG" maps to no action; this hook knows "SINGLE", "DOUBLE"',
    );
    expect(await s.runs()).toEqual([]);
  });

  it('a forged signature, or a message changed after signing, is 401 and does nothing', async () => {
    const s = await open();
    const forged = signedBy(forger.key, notification('DOUBLE'));
    const changed = { ...signedBy(sns.key, notification('SINGLE')), Message: 'DOUBLE' };
    const unknownVersion = { ...signedBy(sns.key, notification('DOUBLE')), SignatureVersion: '3' };
    for (const message of [forged, changed, unknownVersion]) {
      const answer = await deliver(message);
      expect(answer.status).toBe(401);
      expect(answer.type).toMatch(/^application\/problem\+json/);
    }
    expect(await s.runs()).toEqual([]);
    expect(await s.reservations()).toEqual([]);
  });

  it('a certificate off the topic region’s SNS host is 403, never fetched', async () => {
    const s = await open();
    for (const url of [
      'https://sns.eu-west-3.amazonaws.com.evil.com/cert.pem',
      'http://sns.eu-west-3.amazonaws.com/cert.pem',
      'https://sns.eu-west-1.amazonaws.com/cert.pem',
      'https://sns.eu-west-3.amazonaws.com:8443/cert.pem',
      'https://evil.com/sns.eu-west-3.amazonaws.com/cert.pem',
      'not a url',
    ]) {
      // Signed by the forger, whose certificate such a URL would serve.
      const answer = await deliver(
        signedBy(forger.key, { ...notification('DOUBLE'), SigningCertURL: url }),
      );
      expect(answer.status).toBe(403);
      expect(answer.body.detail).toContain('SigningCertURL');
    }
    expect(fetched).toEqual([]);
    expect(await s.runs()).toEqual([]);
  });

  it('a message of another topic is 403, even signed by SNS', async () => {
    const s = await open();
    const other = 'arn:aws:sns:eu-west-3:123456789012:someone-elses';
    const answer = await deliver(signedBy(sns.key, notification('DOUBLE', { TopicArn: other })));
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toContain('TopicArn');
    expect(await s.runs()).toEqual([]);
  });

  it('a SubscribeURL off the SNS host is 403 and not followed', async () => {
    const s = await open();
    const answer = await deliver(
      signedBy(sns.key, {
        Type: 'SubscriptionConfirmation',
        MessageId: randomUUID(),
        TopicArn: TOPIC,
        Token: SUBSCRIBE_TOKEN,
        Message: 'confirm',
        SubscribeURL: 'https://sns.eu-west-3.amazonaws.com.evil.com/?Action=ConfirmSubscription',
        Timestamp: new Date(s.clock.now()).toISOString(),
      }),
    );
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toContain('SubscribeURL');
    expect(fetched).toEqual([CERT_URL]);
  });

  it('a message older than SNS retries for (an hour) is 403: it can only be a replay', async () => {
    const s = await open();
    const message = signedBy(sns.key, notification('DOUBLE'));
    s.clock.set(s.clock.now() + 3_600_001);
    const answer = await deliver(message);
    expect(answer.status).toBe(403);
    expect(answer.body.detail).toContain('Timestamp');
    expect(await s.runs()).toEqual([]);
  });

  it('a certificate that cannot be fetched is 503, so SNS retries; the retry acts', async () => {
    const s = await open();
    const message = signedBy(sns.key, notification('DOUBLE'));
    certificateUp = false;
    const first = await deliver(message);
    expect(first.status).toBe(503);
    expect(await s.runs()).toEqual([]);
    certificateUp = true;
    const retried = await deliver(message);
    expect(retried.status).toBe(200);
    expect(await s.runs()).toHaveLength(1);
  });

  it('an unsubscribe confirmation is logged and changes nothing', async () => {
    const s = await open();
    const answer = await deliver(
      signedBy(sns.key, {
        Type: 'UnsubscribeConfirmation',
        MessageId: randomUUID(),
        TopicArn: TOPIC,
        Token: SUBSCRIBE_TOKEN,
        Message: 'You have chosen to deactivate subscription',
        SubscribeURL: SUBSCRIBE_URL,
        Timestamp: new Date(s.clock.now()).toISOString(),
      }),
    );
    expect(answer.status).toBe(200);
    expect(s.logs.some((l) => l.includes('SNS: the subscription was ended'))).toBe(true);
    expect(fetched).toEqual([CERT_URL]);
    expect(await s.runs()).toEqual([]);
  });

  it('a body that is not an SNS message is 400; an unknown or signed hook is 404', async () => {
    const s = await open();
    expect((await s.post('/hooks/sns/button', 'DOUBLE')).status).toBe(400);
    expect((await s.post('/hooks/sns/button', '{"Type":"Notification"}')).status).toBe(400);
    const message = JSON.stringify(signedBy(sns.key, notification('DOUBLE')));
    expect((await s.post('/hooks/sns/nope', message)).status).toBe(404);
    expect((await s.post('/hooks/sns/ci', message)).status).toBe(404);
    expect(await s.runs()).toEqual([]);
  });
});

describe('the SNS host of a topic', () => {
  it('is in its region, and under amazonaws.com.cn in the China partition', () => {
    expect(snsHostOf('arn:aws:sns:eu-west-3:123456789012:t')).toBe('sns.eu-west-3.amazonaws.com');
    expect(snsHostOf('arn:aws-cn:sns:cn-north-1:123456789012:t')).toBe(
      'sns.cn-north-1.amazonaws.com.cn',
    );
    expect(snsHostOf('arn:aws-us-gov:sns:us-gov-west-1:123456789012:t')).toBe(
      'sns.us-gov-west-1.amazonaws.com',
    );
  });
});
