/**
 * The hook switches of `switches.hooks`: `POST /hooks/NAME` (a body signed with
 * the hook's secret, as our own webhook channel signs) and `POST /hooks/sns/NAME`
 * (an Amazon SNS subscription). Each checks its message, maps it to an action
 * (hook-mapping.ts) and carries it out through the engine (perform.ts), recording
 * the hook as the actor. The HTTP routes (api/hook-routes.ts) only translate.
 */
import type { Environment, Instant } from '../core/glossary.js';
import type { HookDocument } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import { isSecretReference, resolveSecret } from '../notify/secrets.js';
import type { SecretSources } from '../notify/secrets.js';
import { verifyWebhookSignature } from '../notify/webhook.js';
import { requestOf, UnmappedMessage } from './hook-mapping.js';
import type { HookMapping } from './hook-mapping.js';
import { perform, SwitchRefused } from './perform.js';
import type { SwitchOutcome } from './perform.js';
import { OnceWithin, SeenWithin } from './replays.js';
import {
  checkSnsUrl,
  fetchText as fetchOverHttps,
  parseSnsMessage,
  SNS_RETRY_WINDOW_MS,
  SnsRefused,
  SnsVerifier,
} from './sns-messages.js';
import type { FetchText, SnsMessage } from './sns-messages.js';

/** How long a signed request's timestamp is good for, either way (as Slack's). */
export const SIGNATURE_WINDOW_S = 300;

export interface HookLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface SignedHook extends HookMapping {
  readonly type: 'signed';
  /** The resolved secret (never logged, never answered). */
  readonly secret: string;
}

export interface SnsHook extends HookMapping {
  readonly type: 'sns';
  readonly topicArn: string;
}

export type Hook = SignedHook | SnsHook;

/** Why a hook did nothing: an HTTP status and a problem type, with a message safe to answer. */
export class HookRefused extends Error {
  override readonly name = 'HookRefused';
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** What a hook answers when it acted (or had acted: `again` for a retried SNS delivery). */
export interface HookOutcome extends SwitchOutcome {
  readonly again?: boolean;
}

/**
 * The config's hooks with their secrets resolved (`${VAR}`, `file:/path`), when the
 * service starts, so a missing secret is one line then. Throws SecretError.
 */
export function resolveHooks(
  documents: Readonly<Record<string, HookDocument>>,
  sources?: SecretSources,
): Map<string, Hook> {
  return new Map(
    Object.entries(documents).map(([name, h]): [string, Hook] => {
      const mapping = { do: h.do, field: h.field, when: h.when };
      return [
        name,
        h.type === 'signed'
          ? {
              type: 'signed',
              secret: resolveSecret(h.secret, `switches.hooks.${name}.secret`, sources),
              ...mapping,
            }
          : { type: 'sns', topicArn: h.topic_arn, ...mapping },
      ];
    }),
  );
}

/** `lint`'s warnings: a signed hook's secret written inline in the config. */
export function inlineHookSecrets(
  documents: Readonly<Record<string, HookDocument>>,
): { path: string[]; message: string }[] {
  return Object.entries(documents).flatMap(([name, h]) =>
    h.type === 'signed' && !isSecretReference(h.secret)
      ? [
          {
            path: ['switches', 'hooks', name, 'secret'],
            message:
              'secret is written inline, so it goes wherever this file goes; write ${VARIABLE} or file:/path instead',
          },
        ]
      : [],
  );
}

export interface HookSwitchesOptions {
  readonly hooks: ReadonlyMap<string, Hook>;
  readonly log: HookLog;
  /** Fetches SNS signing certificates and confirms subscriptions; HTTPS GET unless set (tests). */
  readonly fetchText?: FetchText;
  /**
   * Real time by default, for signatures, replays and SNS message ages: senders sign
   * with wall-clock timestamps, whatever a demo's faster clock says.
   */
  readonly wallNow?: () => Instant;
}

const UNSIGNED = new HookRefused(
  401,
  'unsigned-hook',
  'Not signed',
  'the request is not signed with this hook\'s secret within the last 5 minutes: send X-Lightsout-Timestamp (Unix seconds) and X-Lightsout-Signature (sha256=HMAC-SHA256 of "<timestamp>.<body>")',
);

export class HookSwitches {
  readonly #hooks: ReadonlyMap<string, Hook>;
  readonly #log: HookLog;
  readonly #fetch: FetchText;
  readonly #signatures: SeenWithin;
  readonly #messages: OnceWithin<SwitchOutcome>;
  readonly #verifier: SnsVerifier;
  readonly #wallNow: () => Instant;

  constructor(
    options: HookSwitchesOptions,
    private readonly engine: Engine,
    private readonly environments: ReadonlyMap<string, Environment>,
    private readonly now: () => Instant,
  ) {
    this.#hooks = options.hooks;
    this.#log = options.log;
    this.#fetch = options.fetchText ?? fetchOverHttps;
    this.#wallNow = options.wallNow ?? Date.now;
    // A signature is good for the window either side of its timestamp: remembered for both.
    this.#signatures = new SeenWithin(2 * SIGNATURE_WINDOW_S * 1000, this.#wallNow);
    this.#messages = new OnceWithin(SNS_RETRY_WINDOW_MS, this.#wallNow);
    this.#verifier = new SnsVerifier(this.#fetch, this.#wallNow);
  }

  /** `POST /hooks/NAME`: the headers as Node gives them, the raw body. */
  async signed(
    name: string,
    timestamp: string | string[] | undefined,
    signature: string | string[] | undefined,
    body: string,
  ): Promise<HookOutcome> {
    const hook = this.#hook(name, 'signed', `/hooks/${name}`);
    if (
      !verifyWebhookSignature(
        hook.secret,
        timestamp,
        body,
        signature,
        this.#wallNow(),
        SIGNATURE_WINDOW_S,
      )
    )
      throw UNSIGNED;
    // Verified, so `signature` is one well-formed header; the same one again is a replay.
    if (!this.#signatures.first(`${name} ${String(signature)}`))
      throw new HookRefused(
        401,
        'replayed-hook',
        'Replayed',
        'this signed request was received already; sign each request anew (a fresh timestamp)',
      );
    const request = this.#request(hook, body);
    return this.#perform(request, `hook:${name}`);
  }

  /** `POST /hooks/sns/NAME`: the raw body SNS posted. */
  async sns(name: string, body: string): Promise<HookOutcome> {
    const hook = this.#hook(name, 'sns', `/hooks/sns/${name}`);
    const message = await this.#verified(hook, body);
    switch (message.Type) {
      case 'SubscriptionConfirmation':
        return this.#confirm(name, hook, message);
      case 'UnsubscribeConfirmation':
        this.#log.info({ hook: name, topic: hook.topicArn }, 'SNS: the subscription was ended');
        return { said: 'noted: the subscription was ended' };
      case 'Notification': {
        const request = this.#request(hook, message.Message);
        const actor = `sns:${name} (message ${message.MessageId})`;
        // A delivery SNS retries (same MessageId) acts once; a failed one is tried again.
        const { value, again } = await this.#messages.run(`${name} ${message.MessageId}`, () =>
          this.#perform(request, actor),
        );
        return again ? { ...value, again } : value;
      }
    }
  }

  #hook<T extends Hook['type']>(name: string, type: T, path: string): Extract<Hook, { type: T }> {
    const hook = this.#hooks.get(name);
    if (hook?.type !== type)
      throw new HookRefused(
        404,
        'unknown-hook',
        'Unknown hook',
        `there is no hook at ${path}; switches.hooks in the config names them (type: ${type})`,
      );
    return hook as Extract<Hook, { type: T }>;
  }

  async #verified(hook: SnsHook, body: string): Promise<SnsMessage> {
    try {
      const message = parseSnsMessage(body);
      await this.#verifier.verify(message, hook.topicArn);
      return message;
    } catch (error) {
      if (!(error instanceof SnsRefused)) throw error;
      throw snsProblem(error);
    }
  }

  async #confirm(name: string, hook: SnsHook, message: SnsMessage): Promise<HookOutcome> {
    let url: URL;
    try {
      url = checkSnsUrl(message.SubscribeURL ?? '', hook.topicArn, 'SubscribeURL');
    } catch (error) {
      if (error instanceof SnsRefused) throw snsProblem(error);
      throw error;
    }
    try {
      await this.#fetch(url);
    } catch {
      // SNS sends the confirmation again on a 5xx; the URL (it carries the token) stays out.
      this.#log.warn(
        { hook: name, topic: hook.topicArn },
        'SNS: confirming the subscription failed',
      );
      throw new HookRefused(
        502,
        'confirmation-failed',
        'Confirmation failed',
        'the subscription could not be confirmed with SNS; it will be tried again',
      );
    }
    this.#log.info({ hook: name, topic: hook.topicArn }, 'SNS: subscription confirmed');
    return { said: `subscribed to ${hook.topicArn}` };
  }

  #request(mapping: HookMapping, message: string) {
    try {
      return requestOf(mapping, message);
    } catch (error) {
      if (!(error instanceof UnmappedMessage)) throw error;
      throw new HookRefused(
        422,
        'unmapped-message',
        'No action for this message',
        error.message,
        error.field,
      );
    }
  }

  async #perform(request: ReturnType<typeof requestOf>, actor: string): Promise<SwitchOutcome> {
    try {
      const outcome = await perform(this.engine, this.environments, request, actor, this.now());
      this.#log.info(
        { actor, action: request.action, environment: request.environment },
        outcome.said,
      );
      return outcome;
    } catch (error) {
      if (!(error instanceof SwitchRefused)) throw error;
      this.#log.info(
        { actor, action: request.action, environment: request.environment },
        `refused: ${error.message}`,
      );
      throw new HookRefused(409, 'switch-refused', 'Refused', error.message);
    }
  }
}

function snsProblem(error: SnsRefused): HookRefused {
  const titles = {
    400: ['not-sns', 'Not an SNS message'],
    401: ['bad-sns-signature', 'Signature not verified'],
    403: ['foreign-sns-message', 'Not from the configured topic'],
    503: ['sns-certificate-unavailable', 'Certificate unavailable'],
  } as const;
  const [type, title] = titles[error.status];
  return new HookRefused(error.status, type, title, error.message);
}
