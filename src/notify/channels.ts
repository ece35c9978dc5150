/**
 * The channels of a config's `notifiers`, built with their secrets resolved
 * (`${VARIABLE}`, `file:/path`). A secret that cannot be resolved stops the start
 * with one line naming the notifier and the field.
 */
import type { NotifierDocument } from '../config/schema.js';
import type { Channel } from './channel.js';
import { resolveSecret } from './secrets.js';
import type { SecretSources } from './secrets.js';
import { GoogleChatChannel } from './google-chat.js';
import { SlackChannel } from './slack.js';
import { TeamsChannel } from './teams.js';
import { WebhookChannel } from './webhook.js';

/** Kinds whose adapter this build does not have yet: their notices stay recorded, undelivered. */
export class UnsupportedChannelError extends Error {
  override readonly name = 'UnsupportedChannelError';
}

export function channelsOf(
  notifiers: Readonly<Record<string, NotifierDocument>>,
  sources?: SecretSources,
): Map<string, Channel> {
  const channels = new Map<string, Channel>();
  for (const [name, notifier] of Object.entries(notifiers))
    channels.set(
      name,
      channelOf(name, notifier, (value, field) =>
        resolveSecret(value, `notifiers.${name}.${field}`, sources),
      ),
    );
  return channels;
}

type Secret = (value: string, field: string) => string;

function channelOf(name: string, notifier: NotifierDocument, secret: Secret): Channel {
  switch (notifier.type) {
    case 'slack':
      return notifier.webhook_url !== undefined
        ? new SlackChannel({ name, webhookUrl: secret(notifier.webhook_url, 'webhook_url') })
        : new SlackChannel({
            name,
            token: secret(notifier.token!, 'token'),
            channel: notifier.channel!,
          });
    case 'teams':
      return new TeamsChannel({ name, url: secret(notifier.url, 'url') });
    case 'google-chat':
      return new GoogleChatChannel({ name, url: secret(notifier.url, 'url') });
    case 'webhook':
      return new WebhookChannel({
        name,
        url: secret(notifier.url, 'url'),
        secret: secret(notifier.secret, 'secret'),
      });
    default:
      throw new UnsupportedChannelError(
        `notifiers.${name}: type ${notifier.type} is not supported by this build yet`,
      );
  }
}
