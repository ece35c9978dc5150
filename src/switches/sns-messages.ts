/**
 * Amazon SNS messages delivered over HTTP(S), checked as AWS documents it
 * ("Verifying the signatures of Amazon SNS messages",
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 * and its page on the string to sign,
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message-verify-message-signature.html):
 * the topic must be the configured one, the signing certificate must come over
 * HTTPS from the SNS endpoint of that topic's region, and the signature
 * (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA) must match the canonical
 * string of the message's type. The chain of trust AWS asks to check is the
 * HTTPS fetch itself: Node verifies the SNS host's TLS certificate against its
 * CAs, and no redirect may leave that host.
 *
 * Hand-written rather than AWS's `sns-validator` package: that one fetches the
 * certificate itself (no way to serve a test certificate, nor to bound its
 * time), accepts any region's host, and does not check the topic; what is left
 * is a few lines of node:crypto.
 */
import { X509Certificate, verify } from 'node:crypto';
import type { Instant } from '../core/glossary.js';

export const SNS_MESSAGE_TYPES = [
  'Notification',
  'SubscriptionConfirmation',
  'UnsubscribeConfirmation',
] as const;
export type SnsMessageType = (typeof SNS_MESSAGE_TYPES)[number];

export interface SnsMessage {
  readonly Type: SnsMessageType;
  readonly MessageId: string;
  readonly TopicArn: string;
  readonly Message: string;
  readonly Timestamp: string;
  readonly SignatureVersion: string;
  readonly Signature: string;
  readonly SigningCertURL: string;
  readonly Subject?: string;
  readonly SubscribeURL?: string;
  readonly Token?: string;
}

/**
 * A message refused. `status` is 400 (not an SNS message), 401 (the signature),
 * 403 (a certificate or URL off the topic's SNS host, another topic, too old) or
 * 503 (the certificate could not be fetched: SNS retries, and that can help).
 */
export class SnsRefused extends Error {
  override readonly name = 'SnsRefused';
  constructor(
    readonly status: 400 | 401 | 403 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the request body as an SNS message; 400 for anything else. */
export function parseSnsMessage(body: string): SnsMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new SnsRefused(400, 'the body is not an Amazon SNS message (JSON)');
  }
  if (typeof parsed !== 'object' || parsed === null)
    throw new SnsRefused(400, 'the body is not an Amazon SNS message (a JSON object)');
  const m = parsed as Record<string, unknown>;
  const type = m.Type;
  if (!SNS_MESSAGE_TYPES.includes(type as SnsMessageType))
    throw new SnsRefused(400, `Type: is one of ${SNS_MESSAGE_TYPES.join(', ')}`);
  const required = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion'];
  required.push('Signature', 'SigningCertURL');
  if (type !== 'Notification') required.push('SubscribeURL', 'Token');
  for (const field of required)
    if (typeof m[field] !== 'string')
      throw new SnsRefused(400, `${field}: missing from the SNS message`);
  if (m.Subject !== undefined && m.Subject !== null && typeof m.Subject !== 'string')
    throw new SnsRefused(400, 'Subject: not a string');
  return parsed as SnsMessage;
}

/**
 * The string SNS signs: the fields of the message's type in this order, each as
 * "Name\nvalue\n". Notification: Message, MessageId, Subject (only if present),
 * Timestamp, TopicArn, Type. SubscriptionConfirmation and UnsubscribeConfirmation:
 * Message, MessageId, SubscribeURL, Timestamp, Token, TopicArn, Type.
 */
export function stringToSign(m: SnsMessage): string {
  const fields: [string, string | undefined][] =
    m.Type === 'Notification'
      ? [
          ['Message', m.Message],
          ['MessageId', m.MessageId],
          ['Subject', typeof m.Subject === 'string' ? m.Subject : undefined],
          ['Timestamp', m.Timestamp],
          ['TopicArn', m.TopicArn],
          ['Type', m.Type],
        ]
      : [
          ['Message', m.Message],
          ['MessageId', m.MessageId],
          ['SubscribeURL', m.SubscribeURL],
          ['Timestamp', m.Timestamp],
          ['Token', m.Token],
          ['TopicArn', m.TopicArn],
          ['Type', m.Type],
        ];
  return fields
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}\n${value!}\n`)
    .join('');
}

/**
 * `sns.<region>.amazonaws.com` for the topic's region; `.amazonaws.com.cn` in
 * the China partition (arn:aws-cn:...), where SNS's endpoints live
 * (https://docs.aws.amazon.com/general/latest/gr/sns.html).
 */
export function snsHostOf(topicArn: string): string {
  const [, partition = '', , region = ''] = topicArn.split(':');
  return `sns.${region}.amazonaws.com${partition === 'aws-cn' ? '.cn' : ''}`;
}

/** A URL the message gives (certificate, subscription): HTTPS on the topic's SNS host, else 403. */
export function checkSnsUrl(text: string, topicArn: string, field: string): URL {
  const host = snsHostOf(topicArn);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SnsRefused(403, `${field}: not a URL`);
  }
  if (url.protocol !== 'https:' || url.hostname !== host || url.port !== '' || url.username !== '')
    throw new SnsRefused(
      403,
      `${field}: not an https URL on ${host}, the SNS endpoint of the configured topic's region`,
    );
  return url;
}

/** Fetches a URL's text (a certificate, a subscription's confirmation); throws when it cannot. */
export type FetchText = (url: URL) => Promise<string>;

const FETCH_TIMEOUT_MS = 10_000;

/** GET over HTTPS, no redirects (they could leave the SNS host), bounded in time. */
export const fetchText: FetchText = async (url) => {
  const response = await fetch(url, {
    redirect: 'error',
    signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return text;
};

/** The hour SNS may retry a delivery for (its hard limit on HTTP/S retry policies). */
export const SNS_RETRY_WINDOW_MS = 3_600_000;

/** Checks messages against one topic, with the certificates it fetched kept by URL. */
export class SnsVerifier {
  readonly #certificates = new Map<string, Promise<X509Certificate>>();

  constructor(
    private readonly fetchCertificate: FetchText,
    private readonly now: () => Instant,
  ) {}

  /** Resolves when `m` is a genuine, recent message of `topicArn`; throws SnsRefused otherwise. */
  async verify(m: SnsMessage, topicArn: string): Promise<void> {
    if (m.TopicArn !== topicArn)
      throw new SnsRefused(403, 'TopicArn: not the topic this hook is subscribed to');
    const url = checkSnsUrl(m.SigningCertURL, topicArn, 'SigningCertURL');
    const algorithm = { '1': 'sha1', '2': 'sha256' }[m.SignatureVersion];
    if (algorithm === undefined) throw new SnsRefused(401, 'SignatureVersion: is 1 or 2');
    const certificate = await this.#certificate(url);
    const signed = verify(
      algorithm,
      Buffer.from(stringToSign(m), 'utf8'),
      certificate.publicKey,
      Buffer.from(m.Signature, 'base64'),
    );
    if (!signed) throw new SnsRefused(401, 'Signature: does not match the message');
    // Checked after the signature: the timestamp is only worth reading once signed.
    // Older than SNS retries for, it can only be a replay.
    const at = Date.parse(m.Timestamp);
    if (Number.isNaN(at) || this.now() - at > SNS_RETRY_WINDOW_MS)
      throw new SnsRefused(403, 'Timestamp: the message is older than SNS retries for (1 hour)');
  }

  #certificate(url: URL): Promise<X509Certificate> {
    const key = url.href;
    let found = this.#certificates.get(key);
    if (found === undefined) {
      found = this.fetchCertificate(url).then(
        (pem) => {
          try {
            return new X509Certificate(pem);
          } catch {
            throw new SnsRefused(401, 'SigningCertURL: not a certificate');
          }
        },
        () => {
          throw new SnsRefused(503, 'the signing certificate could not be fetched; retry later');
        },
      );
      // A failed fetch is not kept: the next delivery tries again.
      found.catch(() => this.#certificates.delete(key));
      this.#certificates.set(key, found);
    }
    return found;
  }
}
