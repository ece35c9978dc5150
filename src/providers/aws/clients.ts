/**
 * One AWS SDK client per service, region, endpoint and role, created on first use
 * and reused, in the SDK's adaptive retry mode for throttling. Credentials come
 * from the default chain, or from an assumed role's cached session.
 *
 * Each service's SDK is imported on first use: a process that drives no AWS
 * resource does not carry its memory (tens of megabytes).
 *
 * An endpoint in the selector wins; without one the SDK itself honours
 * AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 */
import type { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { RoleSessions } from './sessions.js';

/** Where and as whom a resource is reached. */
export interface Connection {
  readonly region: string;
  readonly endpoint?: string | undefined;
  /** A role to assume with STS; without one, the default credential chain. */
  readonly role?: string | undefined;
  readonly externalId?: string | undefined;
}

export interface ServiceClients {
  ec2: EC2Client;
  autoscaling: AutoScalingClient;
  rds: RDSClient;
  ecs: ECSClient;
  'application-autoscaling': ApplicationAutoScalingClient;
  cloudformation: CloudFormationClient;
  cloudwatch: CloudWatchClient;
  sts: STSClient;
}

export type Service = keyof ServiceClients;

export interface ClientConfig {
  readonly region: string;
  readonly retryMode: 'adaptive';
  readonly maxAttempts: number;
  readonly endpoint?: string;
  readonly credentials?: AwsCredentialIdentityProvider;
}

const CONSTRUCTORS: { [S in Service]: (config: ClientConfig) => Promise<ServiceClients[S]> } = {
  ec2: async (c) => new (await import('@aws-sdk/client-ec2')).EC2Client(c),
  autoscaling: async (c) => new (await import('@aws-sdk/client-auto-scaling')).AutoScalingClient(c),
  rds: async (c) => new (await import('@aws-sdk/client-rds')).RDSClient(c),
  ecs: async (c) => new (await import('@aws-sdk/client-ecs')).ECSClient(c),
  'application-autoscaling': async (c) =>
    new (await import('@aws-sdk/client-application-auto-scaling')).ApplicationAutoScalingClient(c),
  cloudformation: async (c) =>
    new (await import('@aws-sdk/client-cloudformation')).CloudFormationClient(c),
  cloudwatch: async (c) => new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient(c),
  sts: async (c) => new (await import('@aws-sdk/client-sts')).STSClient(c),
};

export function connectionKey(c: Connection): string {
  return [c.region, c.endpoint ?? '', c.role ?? '', c.externalId ?? ''].join('|');
}

export class AwsClients {
  private readonly clients = new Map<string, Promise<unknown>>();
  readonly sessions: RoleSessions;

  constructor(now: () => number = Date.now) {
    // Sessions are assumed with the default chain's credentials, in the region of the first use.
    this.sessions = new RoleSessions(
      (region, endpoint) => this.get('sts', { region, endpoint }),
      now,
    );
  }

  /** The client for a service as reached through a connection; one per key, reused. */
  get<S extends Service>(service: S, connection: Connection): Promise<ServiceClients[S]> {
    const key = `${service}|${connectionKey(connection)}`;
    let client = this.clients.get(key) as Promise<ServiceClients[S]> | undefined;
    if (client === undefined) {
      client = CONSTRUCTORS[service]({
        region: connection.region,
        retryMode: 'adaptive',
        maxAttempts: 5,
        ...(connection.endpoint === undefined ? {} : { endpoint: connection.endpoint }),
        ...(connection.role === undefined
          ? {}
          : {
              credentials: this.sessions.provider(
                connection.role,
                connection.externalId,
                connection.region,
                connection.endpoint,
              ),
            }),
      });
      this.clients.set(key, client);
    }
    return client;
  }
}
