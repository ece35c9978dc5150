/**
 * Slack users to roles: the first matching rule of `switches.slack.users` wins, by
 * user id or by email; an email comes from users.info (a local HTTP receiver
 * stands in for Slack's Web API), looked up only when a rule needs it, and cached.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  EMAIL_CACHE_MS,
  emailMatches,
  SlackLookupFailed,
  SlackUsers,
  usersInfoLookup,
} from '../../src/switches/slack-users.js';

const TOKEN = 'xoxb-test-token-0123456789';
const NOW = Date.parse('2026-06-01T10:00:00Z');

/** users.info as Slack answers it: `user.profile.email` (https://api.slack.com/methods/users.info). */
async function slackApi(emails: Record<string, string>, error?: string) {
  const requests: { path: string; authorization: string; body: string }[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      requests.push({
        path: request.url ?? '',
        authorization: request.headers.authorization ?? '',
        body,
      });
      const user = new URLSearchParams(body).get('user') ?? '';
      const answer =
        error !== undefined
          ? { ok: false, error }
          : {
              ok: true,
              user: {
                id: user,
                profile: emails[user] === undefined ? {} : { email: emails[user] },
              },
            };
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  return { url, requests, close: () => server.close() };
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

describe('who a Slack user is', () => {
  it('by user id, first matching rule first; unknown users are nobody', async () => {
    const users = new SlackUsers(
      [
        { user: 'U0JANE', role: 'operator', team: 'payments' },
        { user: 'U0JANE', role: 'admin' },
        { user: 'U0OMAR', role: 'viewer' },
      ],
      undefined,
      () => NOW,
    );
    expect(await users.who('U0JANE')).toEqual({
      userId: 'U0JANE',
      role: 'operator',
      team: 'payments',
    });
    expect(await users.who('U0OMAR')).toEqual({ userId: 'U0OMAR', role: 'viewer', team: null });
    expect(await users.who('U0NOBODY')).toBeUndefined();
  });

  it('by email from users.info, an address or a whole domain, looked up once and cached', async () => {
    const api = await slackApi({ U0JANE: 'Jane@Example.com', U0OMAR: 'omar@contractor.io' });
    closers.push(api.close);
    let now = NOW;
    const users = new SlackUsers(
      [
        { user: 'U0ROOT', role: 'admin' },
        { email: 'jane@example.com', role: 'operator', team: 'payments' },
        { email: '*@example.com', role: 'viewer' },
      ],
      usersInfoLookup(TOKEN, api.url),
      () => now,
    );
    // An id rule that matches needs no lookup.
    expect(await users.who('U0ROOT')).toMatchObject({ role: 'admin' });
    expect(api.requests).toHaveLength(0);
    expect(await users.who('U0JANE')).toEqual({
      userId: 'U0JANE',
      role: 'operator',
      team: 'payments',
    });
    expect(await users.who('U0OMAR')).toBeUndefined();
    expect(api.requests.map((r) => r.path)).toEqual(['/api/users.info', '/api/users.info']);
    expect(api.requests[0]!.authorization).toBe(`Bearer ${TOKEN}`);
    // Asked again within the cache's life: no new request; after it, one more.
    await users.who('U0JANE');
    expect(api.requests).toHaveLength(2);
    now += EMAIL_CACHE_MS;
    await users.who('U0JANE');
    expect(api.requests).toHaveLength(3);
  });

  it('a user without an email matches no email rule', async () => {
    const api = await slackApi({});
    closers.push(api.close);
    const users = new SlackUsers(
      [{ email: '*@example.com', role: 'viewer' }],
      usersInfoLookup(TOKEN, api.url),
      () => NOW,
    );
    expect(await users.who('U0BOT')).toBeUndefined();
  });

  it('a failed lookup says Slack’s error code, never the token', async () => {
    const api = await slackApi({}, 'invalid_auth');
    closers.push(api.close);
    const users = new SlackUsers(
      [{ email: '*@example.com', role: 'viewer' }],
      usersInfoLookup(TOKEN, api.url),
      () => NOW,
    );
    const error = await users.who('U0JANE').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlackLookupFailed);
    expect((error as Error).message).toBe('users.info failed (invalid_auth)');
    expect(JSON.stringify(error)).not.toContain(TOKEN);
  });

  it('an email rule without a bot token is refused when the app is built, naming the field and the fix', () => {
    expect(
      () =>
        new SlackUsers(
          [
            { user: 'U0A', role: 'admin' },
            { email: '*@example.com', role: 'viewer' },
          ],
          undefined,
          () => NOW,
        ),
    ).toThrow(
      'switches.slack.users.1.email: matching by email needs switches.slack.token (a bot token with users:read.email); add it, or match by user id',
    );
  });

  it('email patterns: the address itself, or *@domain; case does not matter', () => {
    expect(emailMatches('jane@example.com', 'JANE@example.com')).toBe(true);
    expect(emailMatches('*@example.com', 'omar@example.com')).toBe(true);
    expect(emailMatches('*@example.com', 'omar@notexample.com')).toBe(false);
    expect(emailMatches('*@example.com', 'omar@example.com.evil.io')).toBe(false);
    expect(emailMatches('jane@example.com', 'jane@example.co')).toBe(false);
  });
});
