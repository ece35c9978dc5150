/**
 * Credentials at the SDK boundary: a role is assumed once and its session shared
 * by every client that acts through it, renewed before it expires; the default
 * credentials are checked against `account` when no role is given.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AwsClients } from '../../src/providers/aws/clients.js';
import { AwsProvider } from '../../src/providers/aws/aws.js';
import { REFRESH_BEFORE_MS } from '../../src/providers/aws/sessions.js';

const sts = mockClient(STSClient);
const ROLE = 'arn:aws:iam::222222222222:role/lightsout';
const HOUR = 3_600_000;

function session(key: string, expiresAt: number) {
  return {
    Credentials: {
      AccessKeyId: `AKIA${key}`,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(expiresAt),
    },
  };
}

beforeEach(() => sts.reset());

describe('assumed roles', () => {
  it('are assumed once with the external id and shared by clients of every service and region', async () => {
    sts.on(AssumeRoleCommand).resolves(session('ONE', HOUR));
    const clients = new AwsClients(() => 0);
    const connection = (region: string) => ({ region, role: ROLE, externalId: 'shared' });
    const ec2 = await clients.get('ec2', connection('eu-west-3'));
    const rds = await clients.get('rds', connection('us-east-1'));
    expect(ec2).toBeInstanceOf(EC2Client);
    expect(rds).toBeInstanceOf(RDSClient);
    const [a, b] = await Promise.all([ec2.config.credentials(), rds.config.credentials()]);
    expect(a.accessKeyId).toBe('AKIAONE');
    expect(b.accessKeyId).toBe('AKIAONE');
    expect(sts.commandCalls(AssumeRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleArn: ROLE, RoleSessionName: 'lightsout', DurationSeconds: 3600, ExternalId: 'shared' },
    ]);
  });

  it('reuse one client per service, region, endpoint and role', async () => {
    const clients = new AwsClients(() => 0);
    const one = await clients.get('ec2', { region: 'eu-west-3' });
    expect(await clients.get('ec2', { region: 'eu-west-3' })).toBe(one);
    expect(await clients.get('ec2', { region: 'eu-west-3', role: ROLE })).not.toBe(one);
    expect(await clients.get('ec2', { region: 'eu-west-1' })).not.toBe(one);
    expect(
      await clients.get('ec2', { region: 'eu-west-3', endpoint: 'http://127.0.0.1:4566' }),
    ).not.toBe(one);
  });

  it('are renewed a few minutes before they expire, not after', async () => {
    let now = 0;
    sts
      .on(AssumeRoleCommand)
      .resolvesOnce(session('ONE', HOUR))
      .resolvesOnce(session('TWO', 2 * HOUR));
    const clients = new AwsClients(() => now);
    const credentials = () => clients.sessions.credentials(ROLE, undefined, 'eu-west-3', undefined);
    expect((await credentials()).accessKeyId).toBe('AKIAONE');
    now = HOUR - REFRESH_BEFORE_MS - 1;
    expect((await credentials()).accessKeyId).toBe('AKIAONE');
    now = HOUR - REFRESH_BEFORE_MS + 1;
    expect((await credentials()).accessKeyId).toBe('AKIATWO');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('are not cached when AssumeRole fails, so the next request tries again', async () => {
    sts
      .on(AssumeRoleCommand)
      .rejectsOnce(Object.assign(new Error('not authorized'), { name: 'AccessDenied' }))
      .resolvesOnce(session('ONE', HOUR));
    const clients = new AwsClients(() => 0);
    const credentials = () => clients.sessions.credentials(ROLE, undefined, 'eu-west-3', undefined);
    await expect(credentials()).rejects.toThrow('not authorized');
    expect((await credentials()).accessKeyId).toBe('AKIAONE');
  });
});

describe('the account of the default credentials', () => {
  const selector = (account: string) => ({
    provider: 'aws',
    kinds: ['ec2'],
    tags: { env: 'dev' },
    settings: { regions: ['eu-west-3'], account },
  });

  it('must be the account the selector names, or discovery is refused with the fix', async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: '111111111111' });
    await expect(new AwsProvider().discover(selector('333333333333'))).rejects.toThrow(
      'the AWS credentials belong to account 111111111111, not 333333333333; set role: to an IAM role in 333333333333, or correct account:',
    );
  });
});
