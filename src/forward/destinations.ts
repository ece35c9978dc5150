/**
 * The config's `forward` list as destinations, each with a client built with the
 * AWS provider's credential rules: the default chain, or `role_arn` assumed
 * through RoleSessions (one session per role, renewed before it expires), as the
 * SNS notifier does (notify/channels.ts).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { ForwardDocument } from '../config/schema.js';
import { forwardKey } from '../config/schema.js';
import { RoleSessions } from '../providers/aws/sessions.js';
import type { Destination } from './destination.js';
import { EventBridgeDestination } from './eventbridge.js';
import { SnsDestination } from './sns.js';

export function destinationOf(forward: ForwardDocument, sessions: RoleSessions): Destination {
  const key = forwardKey(forward);
  if (forward.type === 'eventbridge') {
    const region = forward.region;
    return new EventBridgeDestination({
      key,
      bus: forward.bus,
      source: forward.source,
      client: new EventBridgeClient({ region, ...credentials(sessions, forward.role_arn, region) }),
    });
  }
  const region = forward.topic_arn.split(':')[3]!;
  return new SnsDestination({
    key,
    topicArn: forward.topic_arn,
    client: new SNSClient({ region, ...credentials(sessions, forward.role_arn, region) }),
  });
}

/** Sessions shared by every destination. */
export function roleSessions(): RoleSessions {
  return new RoleSessions(
    (stsRegion) => Promise.resolve(new STSClient({ region: stsRegion })),
    () => Date.now(),
  );
}

function credentials(
  sessions: RoleSessions,
  role: string | undefined,
  region: string,
): { credentials?: AwsCredentialIdentityProvider } {
  return role === undefined
    ? {}
    : { credentials: sessions.provider(role, undefined, region, undefined) };
}
