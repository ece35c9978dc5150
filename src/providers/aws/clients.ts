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
 *
 * With a limiter (buckets.ts), every call of every client waits for its tokens in
 * AWS's request and resource buckets first. The limiter wraps each client's `send`
 * rather than joining the SDK's middleware stack: aws-sdk-client-mock, which every
 * test at the SDK boundary uses, replaces `send`, so middleware would never run in
 * a test while a wrapper runs the same in tests and in production. And one layer
 * retries throttled answers, not two: the limiter does (after slowing the bucket
 * down), and the SDK's retry strategy retries everything else (network errors,
 * 5xx) but not throttling, so a storm is never 5 SDK attempts times ours.
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
import type { RetryErrorInfo, RetryStrategyV2, StandardRetryToken } from '@smithy/types';
import { beforeSending } from '../../engine/act-gate.js';
import { takesOf } from './buckets.js';
import type { AwsLimiter } from './buckets.js';
import { RoleSessions } from './sessions.js';

/** Where and as whom a resource is reached. */
export interface Connection {
  readonly region: string;
  readonly endpoint?: string | undefined;
  /** A role to assume with STS; without one, the default credential chain. */
  readonly role?: string | undefined;
  readonly externalId?: string | undefined;
  /** The account acted in, when the selector names it: its buckets are the account's. */
  readonly account?: string | undefined;
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
  readonly retryStrategy?: RetryStrategyV2;
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

  constructor(
    now: () => number = Date.now,
    /** Waits for AWS's token buckets before each call; without one, calls go at once. */
    readonly limiter?: AwsLimiter,
  ) {
    // Sessions are assumed with the default chain's credentials, in the region of the first use.
    this.sessions = new RoleSessions(
      (region, endpoint) => this.get('sts', { region, endpoint }),
      now,
    );
  }

  /** The client for a service as reached through a connection; one per key, reused. */
  get<S extends Service>(service: S, connection: Connection): Promise<ServiceClients[S]> {
    const key = `${service}|${connectionKey(connection)}|${connection.account ?? ''}`;
    let client = this.clients.get(key) as Promise<ServiceClients[S]> | undefined;
    if (client === undefined) {
      client = (async () =>
        CONSTRUCTORS[service]({
          region: connection.region,
          retryMode: 'adaptive',
          maxAttempts: 5,
          ...(this.limiter === undefined ? {} : { retryStrategy: await noThrottlingRetries() }),
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
        }))().then((made) =>
        this.limiter === undefined ? made : limited(made, service, connection, this.limiter),
      );
      this.clients.set(key, client);
    }
    return client;
  }
}

/**
 * Whose buckets a client's calls take from: the account (named, or the role's), in
 * the region; a connection that names neither (the default credentials) by its endpoint.
 */
export function bucketScope(connection: Connection): string {
  const account =
    connection.account ??
    (connection.role === undefined ? undefined : /:iam::(\d{12}):/.exec(connection.role)?.[1]) ??
    `default${connection.endpoint === undefined ? '' : `@${connection.endpoint}`}`;
  return `aws|${account}|${connection.region}`;
}

interface Sending {
  send(command: unknown, ...rest: unknown[]): Promise<unknown>;
}

/**
 * The client with a `send` that waits for the call's tokens, then sends it through
 * the class's own `send` (looked up at each call: a test's mock, when installed).
 */
function limited<C>(client: C, service: Service, connection: Connection, limiter: AwsLimiter): C {
  const own = Object.getPrototypeOf(client) as Sending;
  const scope = bucketScope(connection);
  const rates = limiter.ratesFor(scope.split('|')[1] ?? '');
  Object.defineProperty(client, 'send', {
    configurable: true,
    value: (command: { input?: unknown }, ...rest: unknown[]) => {
      const action = command.constructor.name.replace(/Command$/, '');
      const takes = takesOf(rates, scope, service, action, command.input);
      // After the wait for tokens, the run acting (if any) is asked again (act-gate.ts).
      return limiter.run(takes, async () => {
        await beforeSending();
        return own.send.call(client, command, ...rest);
      });
    },
  });
  return client;
}

/**
 * The SDK's standard retries, less the throttled answers: those go back to the
 * limiter, which slows its bucket down before trying again.
 */
async function noThrottlingRetries(): Promise<RetryStrategyV2> {
  const { StandardRetryStrategy } = await import('@smithy/core/retry');
  return new (class extends StandardRetryStrategy {
    override refreshRetryTokenForRetry(
      token: StandardRetryToken,
      errorInfo: RetryErrorInfo,
    ): Promise<StandardRetryToken> {
      if (errorInfo.errorType === 'THROTTLING')
        return Promise.reject(errorInfo.error ?? new Error('throttled'));
      return super.refreshRetryTokenForRetry(token, errorInfo);
    }
  })(5);
}
