/**
 * The channels of a config's `notifiers`, built with their secrets resolved
 * (`${VARIABLE}`, `file:/path`). A secret that cannot be resolved stops the start
 * with one line naming the notifier and the field.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { NotifierDocument } from '../config/schema.js';
import { RoleSessions } from '../providers/aws/sessions.js';
import type { Channel } from './channel.js';
import { EmailChannel } from './email.js';
import { GoogleChatChannel } from './google-chat.js';
import { resolveSecret } from './secrets.js';
import type { SecretSources } from './secrets.js';
import { SnsChannel } from './sns.js';
import { SlackChannel } from './slack.js';
import { TeamsChannel } from './teams.js';
import { WebhookChannel } from './webhook.js';

export interface ChannelOptions {
  /**
   * The Slack app (`switches.slack`) is configured: Slack messages carry buttons
   * that act through its interactivity URL, rather than links to pages.
   */
  readonly slackInteractive?: boolean;
}

export function channelsOf(
  notifiers: Readonly<Record<string, NotifierDocument>>,
  sources?: SecretSources,
  options: ChannelOptions = {},
): Map<string, Channel> {
  const channels = new Map<string, Channel>();
  for (const [name, notifier] of Object.entries(notifiers))
    channels.set(
      name,
      channelOf(
        name,
        notifier,
        (value, field) => resolveSecret(value, `notifiers.${name}.${field}`, sources),
        options,
      ),
    );
  return channels;
}

type Secret = (value: string, field: string) => string;

function channelOf(
  name: string,
  notifier: NotifierDocument,
  secret: Secret,
  options: ChannelOptions,
): Channel {
  switch (notifier.type) {
    case 'slack': {
      const interactive = options.slackInteractive === true;
      return notifier.webhook_url !== undefined
        ? new SlackChannel({
            name,
            webhookUrl: secret(notifier.webhook_url, 'webhook_url'),
            interactive,
          })
        : new SlackChannel({
            name,
            token: secret(notifier.token!, 'token'),
            channel: notifier.channel!,
            interactive,
          });
    }
    case 'email':
      return new EmailChannel({
        name,
        host: notifier.host,
        port: notifier.port,
        secure: notifier.security,
        ...(notifier.username === undefined
          ? {}
          : { username: secret(notifier.username, 'username') }),
        ...(notifier.password === undefined
          ? {}
          : { password: secret(notifier.password, 'password') }),
        from: notifier.from,
        to: notifier.to,
      });
    case 'sns':
      return new SnsChannel({
        name,
        topicArn: notifier.topic_arn,
        client: snsClient(notifier.topic_arn, notifier.role_arn),
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
  }
}

/**
 * A client in the topic's region, with the AWS provider's credential rules: the
 * default chain, or a role assumed (and its session renewed) when `role_arn` says.
 */
function snsClient(topicArn: string, role: string | undefined): SNSClient {
  const region = topicArn.split(':')[3]!;
  if (role === undefined) return new SNSClient({ region });
  const sessions = new RoleSessions(
    (stsRegion) => Promise.resolve(new STSClient({ region: stsRegion })),
    () => Date.now(),
  );
  return new SNSClient({
    region,
    credentials: sessions.provider(role, undefined, region, undefined),
  });
}
