/**
 * The generic webhook channel: a signed JSON POST any receiver can check, and the
 * helper that checks it (for receivers, our tests and our own inbound hooks).
 *
 * Also the one HTTP POST every webhook-style channel (Teams, Google Chat) uses:
 * a timeout on every request, and failures mapped to DeliveryError with a message
 * that names the channel, never its URL (a webhook URL is a secret: whoever has it
 * can post).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Notice } from '../engine/ports.js';
import { CHANNEL_TIMEOUT_MS, DeliveryError, type Channel } from './channel.js';

export interface WebhookChannelOptions {
  readonly name: string;
  /** Where to POST; treated as a secret (never logged, never in an error). */
  readonly url: string;
  /** The shared secret that signs every request. */
  readonly secret: string;
  /** Request timeout; CHANNEL_TIMEOUT_MS unless set (tests shorten it). */
  readonly timeoutMs?: number;
  /** The clock for the signature's timestamp (epoch ms); Date.now unless set. */
  readonly now?: () => number;
}

/** The body a webhook receiver gets. `schema` changes only when a field's meaning does. */
export interface WebhookPayload {
  readonly schema: 1;
  readonly kind: Notice['kind'];
  readonly environment: string;
  readonly team: string | null;
  readonly runId: string;
  readonly text: string;
  /** ISO 8601, UTC. */
  readonly at: string;
  readonly details: Record<string, unknown>;
}

export const TIMESTAMP_HEADER = 'X-Lightsout-Timestamp';
export const SIGNATURE_HEADER = 'X-Lightsout-Signature';

/** `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`. */
export function signWebhook(secret: string, timestamp: string | number, body: string): string {
  const mac = createHmac('sha256', secret)
    .update(`${String(timestamp)}.${body}`)
    .digest('hex');
  return `sha256=${mac}`;
}

/**
 * Checks a request a webhook channel sent: the signature header against the raw
 * body and timestamp header, in constant time, and the timestamp within
 * `toleranceSeconds` of `now` (epoch milliseconds) either way, so a captured
 * request cannot be replayed later. Returns false for anything malformed.
 */
export function verifyWebhookSignature(
  secret: string,
  timestamp: string | number | readonly string[] | undefined,
  body: string | Buffer,
  signature: string | readonly string[] | undefined,
  now: number,
  toleranceSeconds = 300,
): boolean {
  // Node's request headers are string | string[] | undefined: a repeated header is refused.
  if (typeof timestamp === 'object' || typeof signature !== 'string') return false;
  if (timestamp === undefined) return false;
  const stamp = String(timestamp);
  if (!/^\d{1,15}$/.test(stamp)) return false;
  if (Math.abs(now / 1000 - Number(stamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(
    signWebhook(secret, stamp, typeof body === 'string' ? body : body.toString('utf8')),
  );
  const given = Buffer.from(signature);
  // timingSafeEqual needs equal lengths; the length of a well-formed signature is public.
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}

export function webhookPayload(notice: Notice): WebhookPayload {
  return {
    schema: 1,
    kind: notice.kind,
    environment: notice.environment,
    team: notice.team ?? null,
    runId: notice.runId,
    text: notice.text,
    at: new Date(notice.at).toISOString(),
    details: notice.details ?? {},
  };
}

export class WebhookChannel implements Channel {
  readonly kind = 'webhook' as const;
  readonly name: string;
  readonly #url: string;
  readonly #secret: string;
  readonly #timeoutMs: number;
  readonly #now: () => number;

  constructor(options: WebhookChannelOptions) {
    this.name = options.name;
    this.#url = options.url;
    this.#secret = options.secret;
    this.#timeoutMs = options.timeoutMs ?? CHANNEL_TIMEOUT_MS;
    this.#now = options.now ?? Date.now;
  }

  async send(notice: Notice): Promise<void> {
    const body = JSON.stringify(webhookPayload(notice));
    const timestamp = String(Math.floor(this.#now() / 1000));
    await postJson({
      what: `webhook channel "${this.name}"`,
      url: this.#url,
      body,
      timeoutMs: this.#timeoutMs,
      headers: {
        [TIMESTAMP_HEADER]: timestamp,
        [SIGNATURE_HEADER]: signWebhook(this.#secret, timestamp, body),
      },
    });
  }

  /** Keeps the URL and secret out of util.inspect, console.log and pino's serializers. */
  toJSON(): { name: string; kind: 'webhook' } {
    return { name: this.name, kind: this.kind };
  }
}

export interface PostJsonRequest {
  /** Names the destination in errors, e.g. `Teams channel "ops"`; never the URL. */
  readonly what: string;
  readonly url: string;
  readonly body: string;
  readonly timeoutMs: number;
  readonly headers?: Record<string, string>;
}

/**
 * POSTs a JSON body and resolves with the answer's text on a 2xx. Throws DeliveryError otherwise:
 * permanent for answers that trying again cannot change (400, 401, 403, 404,
 * 410, other 4xx), not permanent for 408, 429, 5xx, timeouts and network errors.
 * No message carries the URL; the fetch error is not attached as a cause
 * because undici's messages can.
 */
export async function postJson(request: PostJsonRequest): Promise<string> {
  const { what } = request;
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...request.headers },
      body: request.body,
      redirect: 'error',
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (error) {
    throw networkError(what, error, request.timeoutMs);
  }
  // Read the body so the connection can be reused. Its text goes to no error
  // message (a receiver may echo the request, URL and all); a caller may inspect
  // a 2xx answer's text (Teams' legacy connectors report failures in it).
  const text = await response.text().catch(() => '');
  if (response.ok) return text;
  throw statusError(what, response.status);
}

function statusError(what: string, status: number): DeliveryError {
  if (status === 401 || status === 403)
    return new DeliveryError(
      `${what}: the webhook was refused (HTTP ${status}): check its URL and secret in the configuration`,
      true,
    );
  if (status === 404 || status === 410)
    return new DeliveryError(
      `${what}: the webhook URL does not exist (HTTP ${status}; deleted?): create it again and update the configuration`,
      true,
    );
  if (status === 408 || status === 429)
    return new DeliveryError(
      `${what}: the receiver is ${status === 429 ? 'throttling' : 'timing out'} (HTTP ${status}); will try again`,
      false,
    );
  if (status >= 500)
    return new DeliveryError(
      `${what}: the receiver failed (HTTP ${status}); will try again`,
      false,
    );
  if (status >= 300 && status < 400)
    return new DeliveryError(
      `${what}: the webhook URL redirects (HTTP ${status}): configure the final URL`,
      true,
    );
  return new DeliveryError(
    `${what}: the receiver rejected the message (HTTP ${status}): check the URL points at the right kind of webhook`,
    true,
  );
}

function networkError(what: string, error: unknown, timeoutMs: number): DeliveryError {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
    return new DeliveryError(`${what}: no answer within ${timeoutMs} ms; will try again`, false);
  // `redirect: 'error'` lands here too; undici says so in the message, which names no URL.
  const code = errorCode(error);
  if (error instanceof TypeError && /redirect/i.test(causeMessage(error)))
    return new DeliveryError(`${what}: the webhook URL redirects: configure the final URL`, true);
  if (
    code === 'ERR_INVALID_URL' ||
    (error instanceof TypeError && /unknown scheme/i.test(causeMessage(error)))
  )
    return new DeliveryError(
      `${what}: the webhook URL is not a valid http(s) URL: check the configuration`,
      true,
    );
  return new DeliveryError(
    `${what}: could not reach the receiver${code === undefined ? '' : ` (${code})`}; will try again`,
    false,
  );
}

function causeMessage(error: Error): string {
  return error.cause instanceof Error ? error.cause.message : '';
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
    current = current.cause;
  }
  return undefined;
}
