/**
 * Slack's request signatures, as "Verifying requests from Slack" describes them
 * (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature: v0=` + hex HMAC-SHA256, keyed by the app's signing secret,
 * of `v0:` + `X-Slack-Request-Timestamp` + `:` + the raw body; requests whose
 * timestamp is more than five minutes from now are refused, so a captured
 * request cannot be replayed later. Written with node:crypto rather than taken
 * from @slack/bolt: it is a dozen lines, and bolt would bring a whole framework.
 *
 * A replay inside the window is refused too: each accepted signature is kept
 * until its timestamp leaves the window. The set is per process, which is
 * enough for one replica (the default); with several replicas behind a load
 * balancer a request replayed to another replica within those five minutes
 * would be accepted there once more. Replaying needs a captured request (TLS
 * makes that hard), and what it would redo is bounded: a start or a stop that
 * is already under way, or a reservation that merges with itself.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Instant } from '../core/glossary.js';

/** How far a request's timestamp may be from now, either way (Slack's documented five minutes). */
export const SLACK_SIGNATURE_WINDOW_MS = 5 * 60_000;

export type SignatureCheck =
  { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** The signature Slack sends for `body` at `timestamp` (Unix seconds, as text). */
export function slackSignature(secret: string, timestamp: string, body: string): string {
  const mac = createHmac('sha256', secret).update(`v0:${timestamp}:${body}`, 'utf8');
  return `v0=${mac.digest('hex')}`;
}

export class SlackRequestVerifier {
  /** Accepted signatures, and when their timestamp leaves the window. */
  readonly #seen = new Map<string, Instant>();
  readonly #secret: string;

  constructor(
    secret: string,
    private readonly now: () => Instant,
  ) {
    if (secret === '') throw new Error('switches.slack.signing_secret is empty');
    this.#secret = secret;
  }

  /** Whether the request is Slack's, recent, and not seen before; the reason never carries the secret. */
  verify(
    timestamp: string | undefined,
    signature: string | undefined,
    body: string,
  ): SignatureCheck {
    if (timestamp === undefined || signature === undefined)
      return { ok: false, reason: 'no X-Slack-Signature or X-Slack-Request-Timestamp header' };
    if (!/^\d{1,12}$/.test(timestamp))
      return { ok: false, reason: 'X-Slack-Request-Timestamp is not Unix seconds' };
    const now = this.now();
    const sent = Number(timestamp) * 1000;
    if (Math.abs(now - sent) > SLACK_SIGNATURE_WINDOW_MS)
      return {
        ok: false,
        reason: 'the request is more than 5 minutes old or ahead (check the server clock)',
      };
    const expected = Buffer.from(slackSignature(this.#secret, timestamp, body));
    const given = Buffer.from(signature);
    // timingSafeEqual needs equal lengths; the length of a signature is no secret.
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'the signature does not match the signing secret' };
    this.#forgetExpired(now);
    if (this.#seen.has(signature))
      return { ok: false, reason: 'this request was already received (a replay)' };
    // Only signed requests get here, so the set grows with Slack's traffic, not an attacker's.
    this.#seen.set(signature, sent + SLACK_SIGNATURE_WINDOW_MS);
    return { ok: true };
  }

  #forgetExpired(now: Instant): void {
    for (const [signature, until] of this.#seen) if (until < now) this.#seen.delete(signature);
  }
}
