/**
 * Who a Slack user is to lightsout: the first rule of `switches.slack.users`
 * that matches, by Slack user id or by email (an address, or `*@domain`). An
 * email is looked up with `users.info` (bot token with users:read.email; the
 * address is `user.profile.email`, https://api.slack.com/methods/users.info),
 * only when a rule needs it, and cached: a slash command has 3 seconds.
 */
import { ErrorCode, LogLevel, WebClient } from '@slack/web-api';
import type { Instant } from '../core/glossary.js';
import type { Role } from '../store/schema.js';

export interface SlackUserRule {
  readonly user?: string | undefined;
  readonly email?: string | undefined;
  readonly role: Role;
  readonly team?: string | undefined;
}

/** A Slack user lightsout knows. `team` null: every environment. */
export interface SlackMember {
  readonly userId: string;
  readonly role: Role;
  readonly team: string | null;
}

/** A Slack user's email, or undefined when Slack has none for them. */
export type EmailLookup = (userId: string) => Promise<string | undefined>;

/** users.info could not answer; the message is safe to show (no token). */
export class SlackLookupFailed extends Error {
  override readonly name = 'SlackLookupFailed';
}

/** How long a looked-up email is trusted: a changed address takes effect after this. */
export const EMAIL_CACHE_MS = 10 * 60_000;
/** users.info gets this long, so a command still answers within Slack's 3 seconds. */
const LOOKUP_TIMEOUT_MS = 2_000;

export class SlackUsers {
  readonly #emails = new Map<string, { email: string | undefined; at: Instant }>();

  constructor(
    private readonly rules: readonly SlackUserRule[],
    private readonly lookup: EmailLookup | undefined,
    private readonly now: () => Instant,
  ) {
    const byEmail = rules.findIndex((r) => r.email !== undefined);
    if (byEmail >= 0 && lookup === undefined)
      throw new Error(
        `switches.slack.users.${byEmail}.email: matching by email needs switches.slack.token (a bot token with users:read.email); add it, or match by user id`,
      );
  }

  /** The member, or undefined for a user no rule matches. Throws SlackLookupFailed. */
  async who(userId: string): Promise<SlackMember | undefined> {
    let email: string | undefined | null = null; // null: not looked up yet
    for (const rule of this.rules) {
      if (rule.user !== undefined && rule.user !== userId) continue;
      if (rule.email !== undefined) {
        if (email === null) email = await this.#emailOf(userId);
        if (email === undefined || !emailMatches(rule.email, email)) continue;
      }
      return { userId, role: rule.role, team: rule.team ?? null };
    }
    return undefined;
  }

  async #emailOf(userId: string): Promise<string | undefined> {
    const now = this.now();
    const cached = this.#emails.get(userId);
    if (cached !== undefined && now - cached.at < EMAIL_CACHE_MS && now >= cached.at)
      return cached.email;
    const email = await this.lookup!(userId);
    this.#emails.set(userId, { email, at: now });
    return email;
  }
}

/** `a@b.c` matches itself, `*@b.c` any address at b.c; case does not matter. */
export function emailMatches(pattern: string, email: string): boolean {
  const p = pattern.trim().toLowerCase();
  const e = email.trim().toLowerCase();
  return p.startsWith('*@') ? e.endsWith(p.slice(1)) : p === e;
}

/** users.info with a bot token; `slackApiUrl` for tests. */
export function usersInfoLookup(token: string, slackApiUrl?: string): EmailLookup {
  const client = new WebClient(token, {
    ...(slackApiUrl === undefined ? {} : { slackApiUrl }),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: LOOKUP_TIMEOUT_MS,
    logLevel: LogLevel.ERROR,
  });
  return async (userId) => {
    try {
      const answer = await client.users.info({ user: userId });
      const email = answer.user?.profile?.email;
      return typeof email === 'string' && email !== '' ? email : undefined;
    } catch (error) {
      throw new SlackLookupFailed(`users.info failed (${lookupError(error)})`);
    }
  };
}

/** What went wrong, in Slack's own code when there is one; never the token. */
function lookupError(error: unknown): string {
  const { code, data } = (error ?? {}) as { code?: unknown; data?: { error?: unknown } };
  if (code === ErrorCode.PlatformError && typeof data?.error === 'string')
    return /^[a-z0-9_]{1,64}$/.test(data.error) ? data.error : 'an error';
  if (code === ErrorCode.RateLimitedError) return 'rate limited';
  if (code === ErrorCode.HTTPError) return 'HTTP error';
  return 'Slack could not be reached';
}
