/**
 * Who a notifier reaches, in words, for the actor of a link followed from one of
 * its messages: "email to ops@example.com", "Slack #ops". Never a secret: no
 * webhook URL, no token.
 */
import type { ConfigDocument } from '../config/schema.js';

export function audiencesOf(notifiers: ConfigDocument['notifiers']): Map<string, string> {
  return new Map(
    Object.entries(notifiers).map(([name, n]): [string, string] => {
      switch (n.type) {
        case 'email':
          return [name, `email to ${n.to.join(', ')}`];
        case 'slack':
          return [name, n.channel === undefined ? `Slack ("${name}")` : `Slack ${n.channel}`];
        case 'sns':
          return [name, `SNS topic ${n.topic_arn.split(':').at(-1) ?? name}`];
        case 'teams':
          return [name, `Microsoft Teams ("${name}")`];
        case 'google-chat':
          return [name, `Google Chat ("${name}")`];
        case 'webhook':
          return [name, `webhook "${name}"`];
      }
    }),
  );
}
