/**
 * Slack: one channel, reached either through an incoming webhook (a URL that
 * posts to the channel it was created for) or through a bot token and a channel
 * (`chat.postMessage` with the official Web API client). Both send the same
 * Block Kit message: a header, the sentence, the facts, and for a stop warning
 * the action buttons the notice's details carry.
 *
 * Failures become DeliveryErrors that say what to fix; the webhook URL and the
 * token are secrets and appear in no message, log or error cause.
 */
import {
  ErrorCode,
  LogLevel,
  WebClient,
  type KnownBlock,
  type WebAPIHTTPError,
  type WebAPIPlatformError,
  type WebAPIRateLimitedError,
} from '@slack/web-api';
import type { Notice } from '../engine/ports.js';
import { CHANNEL_TIMEOUT_MS, DeliveryError, type Channel } from './channel.js';
import { render } from './render.js';
import type { NoticeAction } from '../switches/link-actions.js';

export interface SlackWebhookOptions {
  readonly name: string;
  /** The incoming webhook URL (a secret). */
  readonly webhookUrl: string;
  /** Request timeout; CHANNEL_TIMEOUT_MS unless set. */
  readonly timeoutMs?: number;
  /** Buttons act through the Slack app's interactivity URL (see slackMessage). */
  readonly interactive?: boolean;
}

export interface SlackBotOptions {
  readonly name: string;
  /** A bot token (xoxb-…, a secret) with chat:write. */
  readonly token: string;
  /** A channel ID or name (#ops or ops). */
  readonly channel: string;
  /** The Web API base URL, for tests (WebClient's `slackApiUrl`). */
  readonly slackApiUrl?: string;
  /** Request timeout; CHANNEL_TIMEOUT_MS unless set. */
  readonly timeoutMs?: number;
  /** Buttons act through the Slack app's interactivity URL (see slackMessage). */
  readonly interactive?: boolean;
}

export type SlackChannelOptions = SlackWebhookOptions | SlackBotOptions;

/** A button a notice may carry: `details.actions: [{ label, url }]`. */
type LinkButton = Pick<NoticeAction, 'label' | 'url'>;
/** A button the Slack app follows: `details.actions: [{ action, label, token }]`. */
type AppButton = Pick<NoticeAction, 'action' | 'label' | 'token'>;

/** Escapes the three characters Slack's mrkdwn treats as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const HEADER_MAX = 150; // a header's plain_text limit
const SECTION_TEXT_MAX = 3000;
const FIELD_MAX = 2000;
const FIELDS_PER_SECTION = 10;
const BUTTON_TEXT_MAX = 75;
const BUTTON_URL_MAX = 3000;
const BUTTONS_PER_ACTIONS = 25;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Interactive buttons' `action_id` is `lightsout:<action>`; api/slack-routes.ts reads it back. */
export const SLACK_BUTTON_PREFIX = 'lightsout:';
/** A button's value (the action token) is at most 2000 characters. */
const BUTTON_VALUE_MAX = 2000;

function appButtons(notice: Notice): AppButton[] {
  const raw = notice.details?.['actions'];
  if (!Array.isArray(raw)) return [];
  return raw.filter((a): a is AppButton => {
    const fields = (typeof a === 'object' && a !== null ? a : {}) as Record<string, unknown>;
    return (
      typeof fields['label'] === 'string' &&
      typeof fields['action'] === 'string' &&
      /^[a-z0-9-]{1,40}$/.test(fields['action']) &&
      typeof fields['token'] === 'string' &&
      fields['token'] !== '' &&
      fields['token'].length <= BUTTON_VALUE_MAX
    );
  });
}

function linkButtons(notice: Notice): LinkButton[] {
  const raw = notice.details?.['actions'];
  if (!Array.isArray(raw)) return [];
  return raw.filter(
    (a): a is LinkButton =>
      typeof a === 'object' &&
      a !== null &&
      typeof (a as Record<string, unknown>)['label'] === 'string' &&
      typeof (a as Record<string, unknown>)['url'] === 'string' &&
      /^https?:\/\//i.test((a as Record<string, unknown>)['url'] as string) &&
      ((a as Record<string, unknown>)['url'] as string).length <= BUTTON_URL_MAX,
  );
}

/**
 * A list's lines in as few sections as fit Slack's 3000 characters each, whole
 * lines only: a long reason never pushes the report's last line ("and N more")
 * out of a cut section.
 */
function sectionsOf(lines: readonly string[]): string[] {
  const sections: string[] = [];
  let current = '';
  for (const line of lines.map((l) => cut(l, SECTION_TEXT_MAX))) {
    if (current !== '' && current.length + 1 + line.length > SECTION_TEXT_MAX) {
      sections.push(current);
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  return current === '' ? sections : [...sections, current];
}

/**
 * The message both modes send: `text` for notifications and old clients, `blocks`
 * for the layout. A stop warning's actions are URL buttons (pages that confirm and
 * act), or, `interactive`, buttons that the Slack app follows: `action_id`
 * `lightsout:<action>` and the action token as `value`.
 */
export function slackMessage(
  notice: Notice,
  interactive = false,
): { text: string; blocks: KnownBlock[] } {
  const { title, text, facts, lines } = render(notice);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(title, HEADER_MAX), emoji: false } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(escapeMrkdwn(text), SECTION_TEXT_MAX) } },
  ];
  for (let i = 0; i < facts.length; i += FIELDS_PER_SECTION) {
    blocks.push({
      type: 'section',
      fields: facts.slice(i, i + FIELDS_PER_SECTION).map((f) => ({
        type: 'mrkdwn' as const,
        text: cut(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, FIELD_MAX),
      })),
    });
  }
  for (const text of sectionsOf(lines.map((l) => `• ${escapeMrkdwn(l)}`)))
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  const warning = notice.kind === 'stop-warning';
  const label = (text: string) => ({
    type: 'plain_text' as const,
    text: cut(text, BUTTON_TEXT_MAX),
    emoji: false,
  });
  const buttons = interactive
    ? (warning ? appButtons(notice) : []).map((a) => ({
        type: 'button' as const,
        text: label(a.label),
        action_id: `${SLACK_BUTTON_PREFIX}${a.action}`,
        value: a.token,
      }))
    : (warning ? linkButtons(notice) : []).map((a, i) => ({
        type: 'button' as const,
        text: label(a.label),
        url: a.url,
        action_id: `lightsout-action-${i}`,
      }));
  if (buttons.length > 0) {
    blocks.push({
      type: 'actions',
      elements: buttons.slice(0, BUTTONS_PER_ACTIONS),
    });
  }
  return { text: escapeMrkdwn(`${title}: ${text}`), blocks };
}

/** Incoming-webhook error strings (body of a non-200 answer) and what to do about them. */
const WEBHOOK_ERRORS: Record<string, { permanent: boolean; fix: string }> = {
  no_service: {
    permanent: true,
    fix: 'the webhook URL does not exist (deleted, or its app was uninstalled?): create a new one',
  },
  no_active_hooks: {
    permanent: true,
    fix: 'the webhook was disabled: re-enable it or create a new one',
  },
  invalid_token: {
    permanent: true,
    fix: 'the webhook was refused (its token is invalid): check the URL or create a new one',
  },
  action_prohibited: {
    permanent: true,
    fix: 'a workspace admin restricted posting through this webhook: ask them, or use another channel',
  },
  channel_not_found: {
    permanent: true,
    fix: "the webhook's channel no longer exists: create a new webhook for an existing channel",
  },
  channel_is_archived: {
    permanent: true,
    fix: "the webhook's channel is archived: unarchive it or create a webhook for another channel",
  },
  posting_to_general_channel_denied: {
    permanent: true,
    fix: 'only admins may post to this channel: use another channel',
  },
  no_team: {
    permanent: true,
    fix: "the webhook's workspace no longer exists or removed the app: create a new webhook",
  },
  user_not_found: {
    permanent: true,
    fix: "the webhook's destination user does not exist: create a new webhook",
  },
  invalid_blocks: {
    permanent: true,
    fix: 'Slack rejected the message format (a lightsout bug: please report it)',
  },
  invalid_blocks_format: {
    permanent: true,
    fix: 'Slack rejected the message format (a lightsout bug: please report it)',
  },
  invalid_payload: {
    permanent: true,
    fix: 'Slack rejected the message format (a lightsout bug: please report it)',
  },
};

/** chat.postMessage `error` codes and what to do about them. */
function botErrorFix(code: string, channel: string): { permanent: boolean; fix: string } {
  switch (code) {
    case 'channel_not_found':
      return {
        permanent: true,
        fix: `channel ${channel} was not found: check its name; if it is private, invite the bot to ${channel}`,
      };
    case 'not_in_channel':
      return {
        permanent: true,
        fix: `the bot is not in the channel: invite the bot to ${channel}`,
      };
    case 'is_archived':
      return {
        permanent: true,
        fix: `channel ${channel} is archived: unarchive it or choose another`,
      };
    case 'invalid_auth':
    case 'not_authed':
      return { permanent: true, fix: 'the token was refused: check it' };
    case 'token_revoked':
    case 'token_expired':
      return { permanent: true, fix: 'the token was revoked: create a new one' };
    case 'account_inactive':
      return {
        permanent: true,
        fix: "the token's bot or user was deactivated (app uninstalled?): reinstall the app and use its new token",
      };
    case 'missing_scope':
    case 'not_allowed_token_type':
      return {
        permanent: true,
        fix: 'the token lacks the chat:write scope: add it and reinstall the app',
      };
    case 'access_denied':
    case 'team_access_not_granted':
    case 'restricted_action':
    case 'restricted_action_read_only_channel':
    case 'restricted_action_non_threadable_channel':
    case 'restricted_action_thread_only_channel':
    case 'ekm_access_denied':
      return {
        permanent: true,
        fix: `posting to ${channel} is restricted by a workspace admin: ask them, or choose another channel`,
      };
    case 'invalid_blocks':
    case 'invalid_blocks_format':
    case 'msg_too_long':
    case 'no_text':
    case 'too_many_attachments':
    case 'invalid_arguments':
      return {
        permanent: true,
        fix: 'Slack rejected the message format (a lightsout bug: please report it)',
      };
    case 'ratelimited':
    case 'rate_limited':
    case 'internal_error':
    case 'fatal_error':
    case 'service_unavailable':
    case 'request_timeout':
    case 'team_added_to_org':
      return { permanent: false, fix: 'Slack could not take it now: it will be tried again' };
    default:
      return { permanent: false, fix: 'it will be tried again' };
  }
}

/** Slack error codes are lower_snake identifiers; anything else is not echoed. */
function safeCode(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const code = value.trim();
  return /^[a-z0-9_]{1,64}$/.test(code) ? code : undefined;
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'TimeoutError' ||
      error.name === 'AbortError' ||
      (error.cause instanceof Error && isTimeout(error.cause)))
  );
}

/** A Slack channel; see the module comment. */
export class SlackChannel implements Channel {
  readonly kind = 'slack' as const;
  readonly name: string;
  readonly #webhookUrl: string | undefined;
  readonly #client: WebClient | undefined;
  readonly #channel: string | undefined;
  readonly #timeoutMs: number;
  readonly #interactive: boolean;

  constructor(options: SlackChannelOptions) {
    this.name = options.name;
    this.#interactive = options.interactive === true;
    this.#timeoutMs = options.timeoutMs ?? CHANNEL_TIMEOUT_MS;
    if ('webhookUrl' in options) {
      if (!/^https?:\/\//i.test(options.webhookUrl))
        throw new Error(`slack channel ${options.name}: the webhook URL is not an http(s) URL`);
      this.#webhookUrl = options.webhookUrl;
    } else {
      if (options.token === '')
        throw new Error(`slack channel ${options.name}: the token is empty`);
      if (options.channel === '') throw new Error(`slack channel ${options.name}: no channel`);
      this.#channel = options.channel;
      this.#client = new WebClient(options.token, {
        ...(options.slackApiUrl !== undefined && { slackApiUrl: options.slackApiUrl }),
        // Our delivery retries with its own backoff: the client tries once.
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: this.#timeoutMs,
        logLevel: LogLevel.ERROR,
      });
    }
  }

  send(notice: Notice): Promise<void> {
    return this.#client !== undefined ? this.#sendBot(notice) : this.#sendWebhook(notice);
  }

  #fail(what: string, permanent: boolean): DeliveryError {
    return new DeliveryError(`slack channel ${this.name}: ${what}`, permanent);
  }

  async #sendWebhook(notice: Notice): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.#webhookUrl as string, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(slackMessage(notice, this.#interactive)),
        redirect: 'error',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (error) {
      // The cause is left off on purpose: fetch errors may carry the URL.
      throw this.#fail(
        isTimeout(error)
          ? `the webhook did not answer within ${this.#timeoutMs} ms: it will be tried again`
          : 'could not reach the webhook (network error): it will be tried again',
        false,
      );
    }
    const body = await response.text().catch(() => '');
    if (response.ok) return;
    const code = safeCode(body);
    const known = code !== undefined ? WEBHOOK_ERRORS[code] : undefined;
    const status = response.status;
    const said = `the webhook answered HTTP ${status}${code !== undefined ? ` ${code}` : ''}`;
    if (status === 429) throw this.#fail(`${said} (rate limited): it will be tried again`, false);
    if (status >= 500) throw this.#fail(`${said} (Slack error): it will be tried again`, false);
    if (known !== undefined) throw this.#fail(`${said}: ${known.fix}`, known.permanent);
    if (status === 404 || status === 410)
      throw this.#fail(
        `${said}: the webhook URL does not exist (deleted?): create a new one`,
        true,
      );
    if (status === 401 || status === 403)
      throw this.#fail(`${said}: the webhook was refused: check it`, true);
    throw this.#fail(`${said}: it will be tried again`, false);
  }

  async #sendBot(notice: Notice): Promise<void> {
    const client = this.#client as WebClient;
    const channel = this.#channel as string;
    try {
      await client.chat.postMessage({
        channel,
        ...slackMessage(notice, this.#interactive),
        unfurl_links: false,
      });
    } catch (error) {
      throw this.#botError(error, channel);
    }
  }

  #botError(error: unknown, channel: string): DeliveryError {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === ErrorCode.PlatformError) {
      const apiError = safeCode((error as WebAPIPlatformError).data.error) ?? 'unknown_error';
      const { permanent, fix } = botErrorFix(apiError, channel);
      return this.#fail(`chat.postMessage failed with ${apiError}: ${fix}`, permanent);
    }
    if (code === ErrorCode.RateLimitedError) {
      const retryAfter = (error as WebAPIRateLimitedError).retryAfter;
      return this.#fail(
        `Slack rate-limited chat.postMessage (retry after ${retryAfter} s): it will be tried again`,
        false,
      );
    }
    if (code === ErrorCode.HTTPError) {
      const status = (error as WebAPIHTTPError).statusCode;
      if (status === 401 || status === 403)
        return this.#fail(
          `the Web API answered HTTP ${status}: the token was refused: check it`,
          true,
        );
      if (status === 404)
        return this.#fail(
          'the Web API answered HTTP 404: check the Slack API URL (slackApiUrl)',
          true,
        );
      return this.#fail(`the Web API answered HTTP ${status}: it will be tried again`, false);
    }
    if (isTimeout(error))
      return this.#fail(
        `the Web API did not answer within ${this.#timeoutMs} ms: it will be tried again`,
        false,
      );
    if (code === ErrorCode.RequestError)
      return this.#fail(
        'could not reach the Slack Web API (network error): it will be tried again',
        false,
      );
    // A 429 without a Retry-After and anything unforeseen: worth another try.
    return this.#fail('chat.postMessage failed unexpectedly: it will be tried again', false);
  }
}
