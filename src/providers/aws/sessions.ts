/**
 * Assumed-role sessions, shared by every client that acts through the same role
 * and refreshed a few minutes before they expire.
 *
 * Written by hand rather than with `fromTemporaryCredentials` from
 * @aws-sdk/credential-providers: that provider is not shared between clients (each
 * client would assume the role on its own, once per service and region), builds
 * its STS client internally where tests cannot reach it at the SDK boundary, and
 * reads the wall clock. This is a small cache over STS AssumeRole
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html).
 */
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import type { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

/** A session is renewed when less than this is left of it. */
export const REFRESH_BEFORE_MS = 5 * 60_000;
export const SESSION_SECONDS = 3_600;
export const SESSION_NAME = 'lightsout';

interface Session {
  readonly credentials: Promise<AwsCredentialIdentity>;
  /** Known once the session arrives; until then, the session is fresh. */
  expiresAt: number;
}

export class RoleSessions {
  private readonly sessions = new Map<string, Session>();
  /** AssumeRole calls made, for tests and benchmarks. */
  assumed = 0;

  constructor(
    private readonly sts: (region: string, endpoint: string | undefined) => Promise<STSClient>,
    private readonly now: () => number,
  ) {}

  provider(
    role: string,
    externalId: string | undefined,
    region: string,
    endpoint: string | undefined,
  ): AwsCredentialIdentityProvider {
    return () => this.credentials(role, externalId, region, endpoint);
  }

  credentials(
    role: string,
    externalId: string | undefined,
    region: string,
    endpoint: string | undefined,
  ): Promise<AwsCredentialIdentity> {
    const key = `${role}|${externalId ?? ''}`;
    const cached = this.sessions.get(key);
    if (cached !== undefined && cached.expiresAt - this.now() > REFRESH_BEFORE_MS)
      return cached.credentials;
    const session: Session = {
      credentials: this.assume(role, externalId, region, endpoint),
      expiresAt: Number.POSITIVE_INFINITY,
    };
    this.sessions.set(key, session);
    session.credentials.then(
      (c) => (session.expiresAt = c.expiration?.getTime() ?? Number.POSITIVE_INFINITY),
      // A failed AssumeRole is not cached: the next request tries again.
      () => this.sessions.get(key) === session && this.sessions.delete(key),
    );
    return session.credentials;
  }

  private async assume(
    role: string,
    externalId: string | undefined,
    region: string,
    endpoint: string | undefined,
  ): Promise<AwsCredentialIdentity> {
    this.assumed += 1;
    const sts = await this.sts(region, endpoint);
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: role,
        RoleSessionName: SESSION_NAME,
        DurationSeconds: SESSION_SECONDS,
        ...(externalId === undefined ? {} : { ExternalId: externalId }),
      }),
    );
    if (c?.AccessKeyId === undefined || c.SecretAccessKey === undefined)
      throw new Error(`STS AssumeRole on ${role} returned no credentials`);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken === undefined ? {} : { sessionToken: c.SessionToken }),
      ...(c.Expiration === undefined ? {} : { expiration: c.Expiration }),
    };
  }
}
