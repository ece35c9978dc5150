/**
 * A channel: one configured destination for notices (a Slack channel, a mailbox,
 * an SNS topic, a Teams or Google Chat room, a webhook). `send` resolves once the
 * destination accepted the message and throws a DeliveryError otherwise; the
 * engine's notice delivery retries it with backoff and records the outcome.
 */
import type { Notice } from '../engine/ports.js';

export type ChannelKind = 'slack' | 'email' | 'sns' | 'teams' | 'google-chat' | 'webhook';

export interface Channel {
  readonly name: string;
  readonly kind: ChannelKind;
  send(notice: Notice): Promise<void>;
}

/**
 * A channel refused or could not take a message. The message says what happened
 * and what to fix, and never carries a secret (a token, a webhook URL, a password).
 * `permanent` when trying again cannot help (a revoked token, a 404).
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Times out a channel's request: no destination holds a delivery forever. */
export const CHANNEL_TIMEOUT_MS = 10_000;
