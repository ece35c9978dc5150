/**
 * Slack's request signatures (v0, HMAC-SHA256 over `v0:timestamp:body`): a request
 * signed with the app's secret within five minutes is taken once; a wrong secret,
 * an old or future timestamp, a replay and missing headers are refused, and no
 * reason ever carries the secret.
 */
import { describe, expect, it } from 'vitest';
import type { SignatureCheck } from '../../src/switches/slack-signature.js';
import {
  SLACK_SIGNATURE_WINDOW_MS,
  slackSignature,
  SlackRequestVerifier,
} from '../../src/switches/slack-signature.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = Date.parse('2026-06-01T10:00:00Z');
const BODY = 'token=x&team_id=T1&user_id=U024BE7LH&command=%2Flightsout&text=status&trigger_id=1';
const seconds = (t: number) => String(Math.floor(t / 1000));
/** Why a check refused, or "ok". */
const reasonOf = (check: SignatureCheck) => (check.ok ? 'ok' : check.reason);

describe('Slack request verification', () => {
  it('matches the example of Slack’s documentation', () => {
    // https://api.slack.com/authentication/verifying-requests-from-slack (its worked example)
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it('takes a request signed with the secret, once', () => {
    const verifier = new SlackRequestVerifier(SECRET, () => NOW);
    const ts = seconds(NOW - 60_000);
    const signature = slackSignature(SECRET, ts, BODY);
    expect(verifier.verify(ts, signature, BODY)).toEqual({ ok: true });
    expect(verifier.verify(ts, signature, BODY)).toEqual({
      ok: false,
      reason: 'this request was already received (a replay)',
    });
  });

  it('refuses a wrong secret and a body changed after signing', () => {
    const verifier = new SlackRequestVerifier(SECRET, () => NOW);
    const ts = seconds(NOW);
    const wrong = verifier.verify(ts, slackSignature('another-secret', ts, BODY), BODY);
    expect(reasonOf(wrong)).toContain('does not match');
    const changed = verifier.verify(ts, slackSignature(SECRET, ts, BODY), `${BODY}&text=stop`);
    expect(changed.ok).toBe(false);
    expect(verifier.verify(ts, 'v0=short', BODY).ok).toBe(false);
  });

  it('refuses a request more than five minutes old or ahead, even well signed', () => {
    const verifier = new SlackRequestVerifier(SECRET, () => NOW);
    for (const sent of [
      NOW - SLACK_SIGNATURE_WINDOW_MS - 1_000,
      NOW + SLACK_SIGNATURE_WINDOW_MS + 1_000,
    ]) {
      const ts = seconds(sent);
      expect(reasonOf(verifier.verify(ts, slackSignature(SECRET, ts, BODY), BODY))).toContain(
        'more than 5 minutes',
      );
    }
    const edge = seconds(NOW - SLACK_SIGNATURE_WINDOW_MS);
    expect(verifier.verify(edge, slackSignature(SECRET, edge, BODY), BODY)).toEqual({ ok: true });
  });

  it('a replay is refused for as long as its timestamp is in the window, then as too old', () => {
    let now = NOW;
    const verifier = new SlackRequestVerifier(SECRET, () => now);
    const ts = seconds(NOW);
    const signature = slackSignature(SECRET, ts, BODY);
    expect(verifier.verify(ts, signature, BODY).ok).toBe(true);
    now = NOW + SLACK_SIGNATURE_WINDOW_MS;
    expect(reasonOf(verifier.verify(ts, signature, BODY))).toContain('replay');
    now = NOW + SLACK_SIGNATURE_WINDOW_MS + 1_000;
    expect(reasonOf(verifier.verify(ts, signature, BODY))).toContain('5 minutes');
  });

  it('refuses missing headers and a timestamp that is not Unix seconds', () => {
    const verifier = new SlackRequestVerifier(SECRET, () => NOW);
    const ts = seconds(NOW);
    const signature = slackSignature(SECRET, ts, BODY);
    expect(reasonOf(verifier.verify(undefined, signature, BODY))).toContain('no X-Slack');
    expect(reasonOf(verifier.verify(ts, undefined, BODY))).toContain('no X-Slack');
    expect(reasonOf(verifier.verify('2026-06-01T10:00:00Z', signature, BODY))).toContain(
      'Unix seconds',
    );
  });

  it('no reason carries the secret', () => {
    const verifier = new SlackRequestVerifier(SECRET, () => NOW);
    const ts = seconds(NOW);
    const reasons = [
      verifier.verify(ts, 'v0=00', BODY),
      verifier.verify(ts, slackSignature('x', ts, BODY), BODY),
      verifier.verify('1', slackSignature(SECRET, '1', BODY), BODY),
    ].map((c) => JSON.stringify(c));
    for (const reason of reasons) expect(reason).not.toContain(SECRET);
  });
});
