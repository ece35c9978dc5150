/**
 * The AWS `rds` and `aurora` kinds at the SDK boundary (aws-sdk-client-mock):
 * discovery by tags across pages, cluster members resolved to their cluster,
 * Neptune and DocumentDB clusters, databases AWS cannot stop (read replicas,
 * Multi-AZ DB clusters...), batched observation (calls counted), throttling,
 * permanent errors, the seven-day automatic restart, alarm dimensions and
 * last-action tags.
 */
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  DisableAlarmActionsCommand,
} from '@aws-sdk/client-cloudwatch';
import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import {
  AddTagsToResourceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  StartDBClusterCommand,
  StartDBInstanceCommand,
  StopDBClusterCommand,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds';
import type { DBCluster, DBInstance, Filter } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import type { AwsCommand } from 'aws-sdk-client-mock';
import type { MetadataBearer } from '@smithy/types';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Selector } from '../../src/core/glossary.js';
import { AwsProvider, memoryRestoreData } from '../../src/providers/aws/aws.js';

const rds = mockClient(RDSClient);
const cloudwatch = mockClient(CloudWatchClient);
const ACCOUNT = '123456789012';
const REGION = 'eu-west-3';
const DEV = [{ Key: 'env', Value: 'dev' }];

const selector = (kinds: string[], settings: Record<string, unknown> = {}): Selector => ({
  provider: 'aws',
  kinds,
  tags: { env: 'dev' },
  settings: { regions: [REGION], ...settings },
});

function instance(name: string, status = 'available', extra: Partial<DBInstance> = {}): DBInstance {
  return {
    DBInstanceIdentifier: name,
    DBInstanceArn: `arn:aws:rds:${REGION}:${ACCOUNT}:db:${name}`,
    DBInstanceStatus: status,
    Engine: 'postgres',
    TagList: DEV,
    ...extra,
  };
}

function cluster(name: string, status = 'available', extra: Partial<DBCluster> = {}): DBCluster {
  return {
    DBClusterIdentifier: name,
    DBClusterArn: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:${name}`,
    Status: status,
    Engine: 'aurora-postgresql',
    EngineMode: 'provisioned',
    TagList: DEV,
    ...extra,
  };
}

const rdsId = (name: string) => `aws:rds:${REGION}:${ACCOUNT}:${name}`;
const auroraId = (name: string) => `aws:aurora:${REGION}:${ACCOUNT}:${name}`;

/** Only the databases an id filter names, as RDS answers; all of them without a filter. */
function named<T>(all: readonly T[], filters: Filter[] | undefined, nameOf: (db: T) => string) {
  const ids = filters?.[0]?.Values;
  return ids === undefined ? [...all] : all.filter((db) => ids.includes(nameOf(db)));
}

/** A region holding these databases, read again on every describe (tests change their status). */
function region(instances: DBInstance[], clusters: DBCluster[] = []) {
  rds.on(DescribeDBInstancesCommand).callsFake((input: { Filters?: Filter[] }) => ({
    DBInstances: named(instances, input.Filters, (i) => i.DBInstanceIdentifier ?? ''),
  }));
  rds.on(DescribeDBClustersCommand).callsFake((input: { Filters?: Filter[] }) => ({
    DBClusters: named(clusters, input.Filters, (c) => c.DBClusterIdentifier ?? ''),
  }));
  rds.on(StopDBInstanceCommand).resolves({});
  rds.on(StartDBInstanceCommand).resolves({});
  rds.on(StopDBClusterCommand).resolves({});
  rds.on(StartDBClusterCommand).resolves({});
}

async function discovered(kinds: string[], settings: Record<string, unknown> = {}) {
  const provider = new AwsProvider({ restore: memoryRestoreData() });
  const resources = await provider.discover(selector(kinds, settings));
  return { provider, resources };
}

/** The inputs a command was sent with, in order. */
function inputsOf<TInput extends object, TOutput extends MetadataBearer>(
  command: new (input: TInput) => AwsCommand<TInput, TOutput>,
): TInput[] {
  return rds.commandCalls(command).map((call) => call.args[0].input);
}

const awsError = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

beforeEach(() => {
  rds.reset();
  cloudwatch.reset();
});

describe('discovery', () => {
  it('lists DB instances across pages (no tag filter exists) and keeps those with every tag', async () => {
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({
        DBInstances: [
          instance('billing'),
          instance('prod-db', 'available', { TagList: [{ Key: 'env', Value: 'prod' }] }),
        ],
        Marker: 'page-2',
      })
      .resolvesOnce({
        DBInstances: [
          instance('reports', 'stopped'),
          instance('untagged', 'available', { TagList: [] }),
        ],
      });
    const { resources } = await discovered(['rds']);
    expect(resources).toEqual([
      { id: rdsId('billing'), provider: 'aws', kind: 'rds', name: 'billing', tags: { env: 'dev' } },
      { id: rdsId('reports'), provider: 'aws', kind: 'rds', name: 'reports', tags: { env: 'dev' } },
    ]);
    const calls = rds.commandCalls(DescribeDBInstancesCommand);
    expect(calls).toHaveLength(2);
    // The SDK's paginator reuses one input object, so only parts of it are compared.
    expect(calls[0]!.args[0].input).toMatchObject({ Filters: [], MaxRecords: 100 });
    expect(calls[1]!.args[0].input).toMatchObject({ Marker: 'page-2' });
  });

  it('resolves tagged members of a cluster to the cluster, once, acted on by the aurora kind', async () => {
    region(
      [
        instance('shop-writer', 'available', {
          Engine: 'aurora-postgresql',
          DBClusterIdentifier: 'shop',
        }),
        instance('shop-reader', 'available', {
          Engine: 'aurora-postgresql',
          DBClusterIdentifier: 'shop',
        }),
        instance('billing'),
      ],
      [cluster('shop', 'available', { TagList: [{ Key: 'team', Value: 'web' }] })],
    );
    const { provider, resources } = await discovered(['rds']);
    expect(resources).toEqual([
      { id: rdsId('billing'), provider: 'aws', kind: 'rds', name: 'billing', tags: { env: 'dev' } },
      // The selector's tags are kept, so the selector that found the cluster still matches it.
      {
        id: auroraId('shop'),
        provider: 'aws',
        kind: 'aurora',
        name: 'shop',
        tags: { team: 'web', env: 'dev' },
      },
    ]);
    expect(inputsOf(DescribeDBClustersCommand)).toEqual([
      expect.objectContaining({ Filters: [{ Name: 'db-cluster-id', Values: ['shop'] }] }),
    ]);

    const outcomes = await provider.act(resources, 'off');
    expect(outcomes).toEqual([
      { id: rdsId('billing'), result: 'accepted' },
      { id: auroraId('shop'), result: 'accepted' },
    ]);
    expect(inputsOf(StopDBInstanceCommand)).toEqual([{ DBInstanceIdentifier: 'billing' }]);
    expect(inputsOf(StopDBClusterCommand)).toEqual([{ DBClusterIdentifier: 'shop' }]);
  });

  it('finds Aurora, Neptune and DocumentDB clusters by tags and stops each with StopDBCluster', async () => {
    region(
      [],
      [
        cluster('orders', 'available', { Engine: 'aurora-mysql' }),
        cluster('graph', 'available', { Engine: 'neptune' }),
        cluster('documents', 'available', { Engine: 'docdb' }),
        cluster('other', 'available', { Engine: 'docdb', TagList: [] }),
      ],
    );
    const { provider, resources } = await discovered(['aurora']);
    expect(resources.map((r) => r.id)).toEqual([
      auroraId('orders'),
      auroraId('graph'),
      auroraId('documents'),
    ]);
    expect((await provider.act(resources, 'off')).map((o) => o.result)).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);
    expect(inputsOf(StopDBClusterCommand)).toEqual([
      { DBClusterIdentifier: 'orders' },
      { DBClusterIdentifier: 'graph' },
      { DBClusterIdentifier: 'documents' },
    ]);
  });
});

describe('start and stop', () => {
  it('stops an available database, and a stopped or stopping one is already off', async () => {
    region([instance('a'), instance('b', 'stopped'), instance('c', 'stopping')]);
    const { provider, resources } = await discovered(['rds']);
    rds.resetHistory();
    expect(await provider.act(resources, 'off')).toEqual([
      { id: rdsId('a'), result: 'accepted' },
      { id: rdsId('b'), result: 'already' },
      { id: rdsId('c'), result: 'already' },
    ]);
    expect(inputsOf(StopDBInstanceCommand)).toEqual([{ DBInstanceIdentifier: 'a' }]);
    // One describe names all three before acting.
    expect(inputsOf(DescribeDBInstancesCommand)).toEqual([
      expect.objectContaining({ Filters: [{ Name: 'db-instance-id', Values: ['a', 'b', 'c'] }] }),
    ]);
  });

  it('starts a stopped database; an available or starting one is already on; a stopping one is retried', async () => {
    region([
      instance('a', 'stopped'),
      instance('b'),
      instance('c', 'starting'),
      instance('d', 'stopping'),
    ]);
    const { provider, resources } = await discovered(['rds']);
    expect(await provider.act(resources, 'on')).toEqual([
      { id: rdsId('a'), result: 'accepted' },
      { id: rdsId('b'), result: 'already' },
      { id: rdsId('c'), result: 'already' },
      { id: rdsId('d'), result: 'transient', reason: 'd is still stopping' },
    ]);
    expect(inputsOf(StartDBInstanceCommand)).toEqual([{ DBInstanceIdentifier: 'a' }]);
  });

  it('starts a stopped cluster with StartDBCluster', async () => {
    region([], [cluster('shop', 'stopped')]);
    const { provider, resources } = await discovered(['aurora']);
    expect(await provider.act(resources, 'on')).toEqual([
      { id: auroraId('shop'), result: 'accepted' },
    ]);
    expect(inputsOf(StartDBClusterCommand)).toEqual([{ DBClusterIdentifier: 'shop' }]);
  });

  it('refuses to stop a read replica, or an instance that has one, with the reason, without calling AWS', async () => {
    region([
      instance('replica', 'available', { ReadReplicaSourceDBInstanceIdentifier: 'source' }),
      instance('source', 'available', { ReadReplicaDBInstanceIdentifiers: ['replica'] }),
      instance('mssql', 'available', { Engine: 'sqlserver-se', MultiAZ: true }),
    ]);
    const { provider, resources } = await discovered(['rds']);
    const doc = 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html';
    expect(await provider.act(resources, 'off')).toEqual([
      {
        id: rdsId('replica'),
        result: 'failed',
        reason: `cannot stop replica: it is a read replica of source, and RDS cannot stop a read replica (${doc})`,
      },
      {
        id: rdsId('source'),
        result: 'failed',
        reason: `cannot stop source: it has read replicas (replica), and RDS cannot stop a DB instance that has one (${doc})`,
      },
      {
        id: rdsId('mssql'),
        result: 'failed',
        reason: `cannot stop mssql: RDS cannot stop an RDS for SQL Server DB instance in a Multi-AZ configuration (${doc})`,
      },
    ]);
    expect(rds.commandCalls(StopDBInstanceCommand)).toHaveLength(0);
    // Being on, they need no start either.
    expect((await provider.act(resources, 'on')).map((o) => o.result)).toEqual([
      'already',
      'already',
      'already',
    ]);
  });

  it('refuses to stop clusters AWS cannot stop, with the reason', async () => {
    region(
      [],
      [
        cluster('multi-az', 'available', {
          Engine: 'postgres',
          DBClusterInstanceClass: 'db.m6gd.large',
        }),
        cluster('global', 'available', { GlobalClusterIdentifier: 'world' }),
        cluster('v1', 'available', { EngineMode: 'serverless' }),
        cluster('target', 'available', {
          ReplicationSourceIdentifier: 'arn:aws:rds:us-east-1:1:cluster:x',
        }),
      ],
    );
    const { provider, resources } = await discovered(['aurora']);
    const reasons = (await provider.act(resources, 'off')).map((o) => o.reason);
    const stopDoc =
      'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-cluster-stop-start.html';
    expect(reasons).toEqual([
      'cannot stop multi-az: it is a Multi-AZ DB cluster (engine postgres), which RDS cannot stop (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/multi-az-db-clusters-concepts.Limitations.html)',
      `cannot stop global: it is part of the global database world, and such a cluster cannot be stopped (${stopDoc})`,
      `cannot stop v1: it is an Aurora Serverless v1 cluster, and such a cluster cannot be stopped (${stopDoc})`,
      `cannot stop target: it replicates from arn:aws:rds:us-east-1:1:cluster:x, and such a cluster cannot be stopped (${stopDoc})`,
    ]);
    expect(rds.commandCalls(StopDBClusterCommand)).toHaveLength(0);
  });

  it('reports throttling as transient (the engine retries), then succeeds', async () => {
    region([instance('a')]);
    const { provider, resources } = await discovered(['rds']);
    rds.on(StopDBInstanceCommand).rejectsOnce(awsError('Throttling', 'Rate exceeded')).resolves({});
    expect(await provider.act(resources, 'off')).toEqual([
      { id: rdsId('a'), result: 'transient', reason: 'Throttling: Rate exceeded' },
    ]);
    expect(await provider.act(resources, 'off')).toEqual([{ id: rdsId('a'), result: 'accepted' }]);
    expect(rds.commandCalls(StopDBInstanceCommand)).toHaveLength(2);
  });

  it('fails only the database a permanent error names; the others still act', async () => {
    region([instance('a'), instance('b'), instance('c')]);
    const { provider, resources } = await discovered(['rds']);
    rds.on(StopDBInstanceCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
      if (input.DBInstanceIdentifier === 'b')
        throw awsError('AccessDenied', 'User is not authorized to perform: rds:StopDBInstance');
      return {};
    });
    expect(await provider.act(resources, 'off')).toEqual([
      { id: rdsId('a'), result: 'accepted' },
      {
        id: rdsId('b'),
        result: 'failed',
        reason: 'AccessDenied: User is not authorized to perform: rds:StopDBInstance',
      },
      { id: rdsId('c'), result: 'accepted' },
    ]);
    expect(rds.commandCalls(StopDBInstanceCommand)).toHaveLength(3);
  });

  it('retries a database that is busy (InvalidDBInstanceStateFault, InvalidDBClusterStateFault)', async () => {
    region([instance('a', 'backing-up')], [cluster('shop', 'modifying')]);
    const { provider, resources } = await discovered(['rds', 'aurora']);
    rds
      .on(StopDBInstanceCommand)
      .rejects(awsError('InvalidDBInstanceStateFault', 'DB instance is not in available state.'));
    rds
      .on(StopDBClusterCommand)
      .rejects(awsError('InvalidDBClusterStateFault', 'DbCluster shop is in modifying state.'));
    expect(await provider.act(resources, 'off')).toEqual([
      {
        id: rdsId('a'),
        result: 'transient',
        reason: 'InvalidDBInstanceStateFault: DB instance is not in available state.',
      },
      {
        id: auroraId('shop'),
        result: 'transient',
        reason: 'InvalidDBClusterStateFault: DbCluster shop is in modifying state.',
      },
    ]);
  });

  it('fails a database that is gone or broken, without calling AWS', async () => {
    const databases = [instance('gone'), instance('kms')];
    region(databases);
    const { provider, resources } = await discovered(['rds']);
    databases.splice(0, 2, instance('kms', 'inaccessible-encryption-credentials'));
    expect(await provider.act(resources, 'on')).toEqual([
      { id: rdsId('gone'), result: 'failed', reason: 'the DB instance gone no longer exists' },
      {
        id: rdsId('kms'),
        result: 'failed',
        reason: 'the DB instance kms is inaccessible-encryption-credentials',
      },
    ]);
    expect(rds.commandCalls(StartDBInstanceCommand)).toHaveLength(0);
  });

  it('a database AWS restarted after 7 days is seen on and stopped again', async () => {
    const databases = [instance('a', 'stopped')];
    region(databases);
    const { provider, resources } = await discovered(['rds']);
    expect(await provider.act(resources, 'off')).toEqual([{ id: rdsId('a'), result: 'already' }]);
    expect(rds.commandCalls(StopDBInstanceCommand)).toHaveLength(0);

    // Seven days later AWS starts it by itself.
    databases[0] = instance('a', 'available');
    expect((await provider.observe(resources)).get(rdsId('a'))).toBe('on');
    expect(await provider.act(resources, 'off')).toEqual([{ id: rdsId('a'), result: 'accepted' }]);
    expect(inputsOf(StopDBInstanceCommand)).toEqual([{ DBInstanceIdentifier: 'a' }]);
  });
});

describe('observation', () => {
  it('names 100 databases per describe and maps the documented statuses', async () => {
    const statuses = [
      'available',
      'backing-up',
      'modifying',
      'stopped',
      'stopping',
      'starting',
      'incompatible-parameters',
    ];
    const many = Array.from({ length: 150 }, (_, i) =>
      instance(`db-${String(i).padStart(3, '0')}`, statuses[i % statuses.length]),
    );
    const databases = [...many];
    region(databases);
    const { provider, resources } = await discovered(['rds']);
    databases.pop(); // deleted since discovery
    rds.resetHistory();
    const states = await provider.observe(resources);
    expect(
      inputsOf(DescribeDBInstancesCommand).map((input) => input.Filters?.[0]?.Values?.length),
    ).toEqual([100, 50]);
    expect(inputsOf(DescribeDBInstancesCommand)[0]).toMatchObject({
      Filters: [{ Name: 'db-instance-id' }],
      MaxRecords: 100,
    });
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => states.get(resources[i]!.id))).toEqual([
      'on',
      'on',
      'on',
      'off',
      'stopping',
      'starting',
      { state: 'failed', reason: 'the DB instance db-006 is incompatible-parameters' },
    ]);
    expect(states.get(resources[149]!.id)).toBe('missing');
  });

  it('follows the Marker within a batch', async () => {
    region([instance('a'), instance('b')]);
    const { provider, resources } = await discovered(['rds']);
    rds
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [instance('a')], Marker: 'more' })
      .resolvesOnce({ DBInstances: [instance('b', 'stopped')] });
    rds.resetHistory();
    const states = await provider.observe(resources);
    expect([...states.values()]).toEqual(['on', 'off']);
    expect(rds.commandCalls(DescribeDBInstancesCommand)).toHaveLength(2);
  });

  it('reads cluster statuses with the db-cluster-id filter', async () => {
    region([], [cluster('shop', 'stopping'), cluster('orders', 'starting')]);
    const { provider, resources } = await discovered(['aurora']);
    rds.resetHistory();
    expect([...(await provider.observe(resources)).values()]).toEqual(['stopping', 'starting']);
    expect(inputsOf(DescribeDBClustersCommand)).toEqual([
      expect.objectContaining({ Filters: [{ Name: 'db-cluster-id', Values: ['shop', 'orders'] }] }),
    ]);
  });
});

describe('after the action', () => {
  const run = { id: 'run-1', direction: 'stop', at: Date.UTC(2026, 10, 25, 18) };

  function alarm(name: string, dimension: string, value: string): MetricAlarm {
    return {
      AlarmName: name,
      ActionsEnabled: true,
      Namespace: 'AWS/RDS',
      MetricName: 'CPUUtilization',
      Dimensions: [{ Name: dimension, Value: value }],
    };
  }

  it('disables the alarms named by DBInstanceIdentifier (rds) and DBClusterIdentifier (aurora)', async () => {
    region([instance('billing')], [cluster('shop')]);
    const { provider, resources } = await discovered(['rds', 'aurora']);
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        alarm('billing-cpu', 'DBInstanceIdentifier', 'billing'),
        alarm('shop-cpu', 'DBClusterIdentifier', 'shop'),
        alarm('shop-as-instance', 'DBInstanceIdentifier', 'shop'),
      ],
    });
    cloudwatch.on(DisableAlarmActionsCommand).resolves({});
    const notes = await provider.settled(resources, 'off', run);
    expect(notes).toEqual([
      { id: rdsId('billing'), kind: 'alarms.disabled', detail: { alarms: ['billing-cpu'] } },
      { id: auroraId('shop'), kind: 'alarms.disabled', detail: { alarms: ['shop-cpu'] } },
    ]);
  });

  it('tags each database with the last action, at the ARN discovery found', async () => {
    region(
      [instance('billing'), instance('shop-writer', 'available', { DBClusterIdentifier: 'shop' })],
      [cluster('shop', 'available', { TagList: [] })],
    );
    const { provider, resources } = await discovered(['rds'], {
      lastActionTags: true,
      alarms: false,
    });
    rds.on(AddTagsToResourceCommand).resolves({});
    expect(await provider.settled(resources, 'off', run)).toEqual([]);
    const tag = [
      { Key: 'lightsout:last-action', Value: 'stop 2026-11-25T18:00:00.000Z run run-1' },
    ];
    expect(inputsOf(AddTagsToResourceCommand)).toEqual([
      { ResourceName: `arn:aws:rds:${REGION}:${ACCOUNT}:db:billing`, Tags: tag },
      { ResourceName: `arn:aws:rds:${REGION}:${ACCOUNT}:cluster:shop`, Tags: tag },
    ]);
  });

  it('tags the others when one tag fails, and names the one that failed', async () => {
    region([instance('a'), instance('b')]);
    const { provider, resources } = await discovered(['rds'], {
      lastActionTags: true,
      alarms: false,
    });
    rds.on(AddTagsToResourceCommand).callsFake((input: { ResourceName: string }) => {
      if (input.ResourceName.endsWith(':a')) throw awsError('AccessDenied', 'not allowed');
      return {};
    });
    const notes = await provider.settled(resources, 'off', run);
    expect(rds.commandCalls(AddTagsToResourceCommand)).toHaveLength(2);
    expect(notes[0]).toEqual({
      id: rdsId('a'),
      kind: 'resource.tag-failed',
      detail: { error: 'Error: could not tag the DB instances a: AccessDenied: not allowed' },
    });
  });
});
