/** The dashboard's sealed sessions, one-time codes, CSRF check and cookie attributes, as functions. */
import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  CODE_TTL_MS,
  csrfOk,
  SESSION_TTL_MS,
  sessionCookieHeader,
  sessionCookieOf,
  sessionKey,
  WebSessions,
} from '../../src/api/session.js';

const key = (byte: number) => new Uint8Array(32).fill(byte);
const request = (fields: Partial<FastifyRequest>) => fields as FastifyRequest;

describe('WebSessions', () => {
  it('reads back what it sealed, until it expires; another key reads nothing', async () => {
    let now = Date.parse('2026-06-01T12:00:00Z');
    const sessions = new WebSessions(key(1), () => now);
    const { cookie, session } = await sessions.open('abc');
    expect(session.expiresAt).toBe(now + SESSION_TTL_MS);
    expect(cookie).not.toContain('abc');
    await expect(sessions.read(cookie)).resolves.toEqual(session);
    // Any replica with the same key reads it; a process with another key does not.
    await expect(new WebSessions(key(1), () => now).read(cookie)).resolves.toEqual(session);
    await expect(new WebSessions(key(2), () => now).read(cookie)).resolves.toBeUndefined();
    // A changed byte is no session.
    const tampered = cookie.slice(0, -3) + (cookie.endsWith('AAA') ? 'BBB' : 'AAA');
    await expect(sessions.read(tampered)).resolves.toBeUndefined();
    await expect(sessions.read('not a cookie')).resolves.toBeUndefined();
    now += SESSION_TTL_MS + 1_000;
    await expect(sessions.read(cookie)).resolves.toBeUndefined();
  });

  it('gives each session its own CSRF token', async () => {
    const sessions = new WebSessions(key(1));
    const a = await sessions.open('abc');
    const b = await sessions.open('abc');
    expect(a.session.csrf).not.toBe(b.session.csrf);
    expect(a.session.csrf.length).toBeGreaterThanOrEqual(32);
  });

  it('redeems a one-time code once, and not after its time', () => {
    let now = 0;
    const sessions = new WebSessions(key(1), () => now);
    const code = sessions.oneTimeCode('hash-1');
    expect(sessions.redeem('wrong')).toBeUndefined();
    expect(sessions.redeem(code)).toBe('hash-1');
    expect(sessions.redeem(code)).toBeUndefined();
    const late = sessions.oneTimeCode('hash-2');
    now += CODE_TTL_MS;
    expect(sessions.redeem(late)).toBeUndefined();
  });
});

describe('csrfOk', () => {
  const session = { tokenHash: 'h', csrf: 'secret-token', expiresAt: 0 };
  it('lets reads through and asks changes for the exact token', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      expect(csrfOk(request({ method, headers: {} }), session)).toBe(true);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      expect(csrfOk(request({ method, headers: {} }), session)).toBe(false);
      expect(csrfOk(request({ method, headers: { 'x-csrf-token': 'secret' } }), session)).toBe(
        false,
      );
      expect(
        csrfOk(request({ method, headers: { 'x-csrf-token': 'secret-tokeN' } }), session),
      ).toBe(false);
      expect(
        csrfOk(request({ method, headers: { 'x-csrf-token': 'secret-token' } }), session),
      ).toBe(true);
    }
  });
});

describe('the session cookie', () => {
  it('is HttpOnly and SameSite=Strict, and Secure over HTTPS or behind a proxy that says so', () => {
    const plain = sessionCookieHeader(request({ protocol: 'http', headers: {} }), 'v', 3_600_000);
    expect(plain).toBe('lightsout_session=v; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600');
    expect(sessionCookieHeader(request({ protocol: 'https', headers: {} }), 'v', 0)).toMatch(
      /; Secure$/,
    );
    expect(
      sessionCookieHeader(
        request({ protocol: 'http', headers: { 'x-forwarded-proto': 'https' } }),
        'v',
        0,
      ),
    ).toMatch(/; Secure$/);
  });

  it('is found among other cookies', () => {
    expect(
      sessionCookieOf(request({ headers: { cookie: 'a=1; lightsout_session=x.y=z; b=2' } })),
    ).toBe('x.y=z');
    expect(sessionCookieOf(request({ headers: { cookie: 'a=1' } }))).toBeUndefined();
    expect(sessionCookieOf(request({ headers: {} }))).toBeUndefined();
  });

  it('is sealed with LIGHTSOUT_SESSION_KEY when set (at least 32 characters), else a random key', () => {
    const long = 'x'.repeat(32);
    expect(sessionKey({ LIGHTSOUT_SESSION_KEY: long })).toEqual(
      sessionKey({ LIGHTSOUT_SESSION_KEY: long }),
    );
    expect(sessionKey({})).not.toEqual(sessionKey({}));
    expect(() => sessionKey({ LIGHTSOUT_SESSION_KEY: 'short' })).toThrow('too short');
  });
});
