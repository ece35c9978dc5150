/**
 * The `rds` and `aurora` kinds: RDS DB instances, and DB clusters (Aurora,
 * Neptune, DocumentDB), found by tags and stopped and started through the RDS API.
 *
 * AWS semantics this file relies on:
 * - DescribeDBInstances and DescribeDBClusters filter by ids, engines and domains,
 *   not by tags (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html,
 *   https://github.com/aws/aws-sdk/issues/177): discovery lists the region, 100 a
 *   page with Marker, and matches each TagList here. Observation names its
 *   databases with the `db-instance-id`/`db-cluster-id` filters, 100 at a time.
 * - DescribeDBClusters also returns Neptune and DocumentDB clusters; their APIs
 *   document the same StopDBCluster/StartDBCluster actions
 *   (https://docs.aws.amazon.com/neptune/latest/apiref/API_StopDBCluster.html,
 *   https://docs.aws.amazon.com/documentdb/latest/developerguide/API_StopDBCluster.html).
 * - "You can't stop an individual Aurora DB instance"
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-cluster-stop-start.html):
 *   the rds kind hands a tagged member of a cluster over as its cluster, of kind aurora.
 * - "You can't stop a DB instance that has a read replica, or that is a read
 *   replica", nor an RDS for SQL Server DB instance in a Multi-AZ configuration
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html).
 * - A cluster in a global database, with a cross-Region read replica, replicating
 *   from another cluster, Aurora Serverless v1 or multi-master cannot be stopped
 *   (aurora-cluster-stop-start.html above), nor a Multi-AZ DB cluster
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/multi-az-db-clusters-concepts.Limitations.html).
 * - AWS starts a database stopped for seven days by itself (both pages above);
 *   it then reads `on`, and the engine stops it again.
 * - Stopping a stopped database or starting an available one is refused with
 *   InvalidDBInstanceState/InvalidDBClusterStateFault, so an act first describes
 *   its databases and answers `already` itself. The same fault for a database that
 *   is busy (backing up, modifying, or changed since the describe) is transient:
 *   those states end by themselves, and the DocumentDB reference states the
 *   condition: "The cluster must be in the available state".
 * - Sizes, for savings, from what discovery reads anyway: a DB instance's
 *   DBInstanceClass, Engine and MultiAZ (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBInstance.html),
 *   which choose its list price. A cluster's Engine and StorageType (`aurora` for
 *   Standard, `aurora-iopt1` for I/O-Optimized) come from DBCluster
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBCluster.html);
 *   a cluster found through its members counts its DBClusterMembers
 *   (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBClusterMember.html),
 *   which stopping the cluster stops, and takes their class from the instances
 *   listed when they all share one. A cluster found by its own tags has only
 *   DBClusterInstanceClass, which RDS reports for Multi-AZ DB clusters alone, so an
 *   Aurora cluster found that way has no class (its members are not described).
 */
import {
  AddTagsToResourceCommand,
  paginateDescribeDBClusters,
  paginateDescribeDBInstances,
  StartDBClusterCommand,
  StartDBInstanceCommand,
  StopDBClusterCommand,
  StopDBInstanceCommand,
} from '@aws-sdk/client-rds';
import type { DBCluster, DBInstance, Filter, RDSClient } from '@aws-sdk/client-rds';
import type { PowerState, ResourceSize } from '../../core/glossary.js';
import type { ActOutcome, Observation, Observed, Resource } from '../../engine/ports.js';
import type { Connection } from './clients.js';
import type { AwsKind, DiscoveryScope, KindContext } from './kind.js';
import {
  awsId,
  eachResource,
  hasTags,
  LAST_ACTION_TAG,
  messageOf,
  nameOf,
  outcomeOfError,
  tagRecord,
} from './kind.js';

/** Ids per id filter, and records per page: DescribeDBInstances/DescribeDBClusters' MaxRecords maximum. */
export const RDS_DESCRIBE_BATCH = 100;

const STOP_INSTANCE_DOC =
  'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_StopInstance.html';
const STOP_CLUSTER_DOC =
  'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-cluster-stop-start.html';
const MULTI_AZ_CLUSTER_DOC =
  'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/multi-az-db-clusters-concepts.Limitations.html';

/** A DB instance or a DB cluster, as both kinds see it. */
interface Database {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  readonly tags: Record<string, string>;
  /** The cluster a DB instance belongs to. */
  readonly cluster?: string;
  /** What prices it: class, engine, deployment; a cluster's class only when RDS reports one (DBClusterInstanceClass). */
  readonly size: ResourceSize;
  /** A cluster's member instances (DBClusterMembers). */
  readonly members?: readonly string[];
  /** Why it cannot be stopped, if it cannot. */
  readonly unstoppable?: string;
}

/** The part of the RDS API that differs between DB instances and DB clusters. */
interface DatabaseApi {
  readonly kind: 'rds' | 'aurora';
  readonly noun: string;
  readonly idFilter: string;
  /** The CloudWatch dimension that names one. */
  readonly dimension: string;
  describe(client: RDSClient, filters: Filter[]): Promise<Database[]>;
  stop(client: RDSClient, name: string): Promise<unknown>;
  start(client: RDSClient, name: string): Promise<unknown>;
}

const INSTANCES: DatabaseApi = {
  kind: 'rds',
  noun: 'DB instance',
  idFilter: 'db-instance-id',
  dimension: 'DBInstanceIdentifier',
  async describe(client, filters) {
    const found: Database[] = [];
    const pages = paginateDescribeDBInstances(
      { client, pageSize: RDS_DESCRIBE_BATCH },
      { Filters: filters },
    );
    for await (const page of pages) found.push(...(page.DBInstances ?? []).map(instanceOf));
    return found;
  },
  stop: (client, name) => client.send(new StopDBInstanceCommand({ DBInstanceIdentifier: name })),
  start: (client, name) => client.send(new StartDBInstanceCommand({ DBInstanceIdentifier: name })),
};

const CLUSTERS: DatabaseApi = {
  kind: 'aurora',
  noun: 'DB cluster',
  idFilter: 'db-cluster-id',
  dimension: 'DBClusterIdentifier',
  async describe(client, filters) {
    const found: Database[] = [];
    const pages = paginateDescribeDBClusters(
      { client, pageSize: RDS_DESCRIBE_BATCH },
      { Filters: filters },
    );
    for await (const page of pages) found.push(...(page.DBClusters ?? []).map(clusterOf));
    return found;
  },
  stop: (client, name) => client.send(new StopDBClusterCommand({ DBClusterIdentifier: name })),
  start: (client, name) => client.send(new StartDBClusterCommand({ DBClusterIdentifier: name })),
};

/** The `rds` kind: standalone DB instances; tagged members of a cluster come back as their cluster. */
export const rdsKind: AwsKind = databaseKind(INSTANCES, discoverInstances);

/** The `aurora` kind: DB clusters (Aurora, Neptune, DocumentDB). */
export const auroraKind: AwsKind = databaseKind(CLUSTERS, async (context, scope) => {
  const client = await context.clients.get('rds', scope.connection);
  const tagged = (await CLUSTERS.describe(client, [])).filter((c) => hasTags(c.tags, scope.tags));
  return found(context, scope, CLUSTERS, tagged, (c) => c.tags);
});

/**
 * ARNs by resource id, learnt from every describe, for the last-action tags. Kept
 * per provider (each has its own context) and shared by both kinds: the aurora
 * kind tags clusters that the rds kind found through their members.
 */
const arnsByContext = new WeakMap<KindContext, Map<string, string>>();

function arnsOf(context: KindContext): Map<string, string> {
  let arns = arnsByContext.get(context);
  if (arns === undefined) {
    arns = new Map();
    arnsByContext.set(context, arns);
  }
  return arns;
}

type Discover = (context: KindContext, scope: DiscoveryScope) => Promise<Resource[]>;

function databaseKind(api: DatabaseApi, discover: Discover): AwsKind {
  return {
    kind: api.kind,
    discover,
    async observe(context: KindContext, connection: Connection, resources: readonly Resource[]) {
      const client = await context.clients.get('rds', connection);
      const current = await describeNamed(context, client, api, resources);
      return new Map(
        resources.map((r): [string, Observation] => {
          const db = current.get(nameOf(r));
          return [r.id, db === undefined ? 'missing' : observationOf(api, db)];
        }),
      );
    },
    async act(
      context: KindContext,
      connection: Connection,
      resources: readonly Resource[],
      target: PowerState,
    ) {
      const client = await context.clients.get('rds', connection);
      let current: Map<string, Database>;
      try {
        current = await describeNamed(context, client, api, resources);
      } catch (error) {
        return resources.map((r) => outcomeOfError(r, error));
      }
      return eachResource(resources, (r) => change(client, api, r, current.get(nameOf(r)), target));
    },
    alarmDimensions: (resource) => [{ Name: api.dimension, Value: nameOf(resource) }],
    async tagLastAction(
      context: KindContext,
      connection: Connection,
      resources: readonly Resource[],
      value: string,
    ) {
      const client = await context.clients.get('rds', connection);
      const arns = arnsOf(context);
      const failures: string[] = [];
      // Each resource is tagged even when another fails; the error names those that failed.
      for (const r of resources) {
        const arn = arns.get(r.id);
        try {
          if (arn === undefined) throw new Error(`its ARN is unknown (not discovered)`);
          await client.send(
            new AddTagsToResourceCommand({
              ResourceName: arn,
              Tags: [{ Key: LAST_ACTION_TAG, Value: value }],
            }),
          );
        } catch (error) {
          failures.push(`${r.name}: ${messageOf(error)}`);
        }
      }
      if (failures.length > 0)
        throw new Error(`could not tag the ${api.noun}s ${failures.join('; ')}`);
    },
  };
}

/**
 * Standalone DB instances carrying the tags, and the clusters of tagged members,
 * once each. A cluster found this way also carries the selector's tags, so the
 * selector that found it still matches it.
 */
async function discoverInstances(context: KindContext, scope: DiscoveryScope): Promise<Resource[]> {
  const client = await context.clients.get('rds', scope.connection);
  const all = await INSTANCES.describe(client, []);
  const tagged = all.filter((i) => hasTags(i.tags, scope.tags));
  const standalone = tagged.filter((i) => i.cluster === undefined);
  const clusterNames = [...new Set(tagged.flatMap((i) => i.cluster ?? []))];
  const clusters = await describeInBatches(client, CLUSTERS, clusterNames);
  // The region's instances are listed already: the members' classes cost no call.
  const classes = new Map(all.map((i) => [i.name, i.size.type] as const));
  const sized = clusters.map((c) => withMembers(c, classes));
  return [
    ...found(context, scope, INSTANCES, standalone, (i) => i.tags),
    ...found(context, scope, CLUSTERS, sized, (c) => ({ ...c.tags, ...scope.tags })),
  ];
}

/** Resources for the databases found, their ARNs remembered. */
function found(
  context: KindContext,
  scope: DiscoveryScope,
  api: DatabaseApi,
  databases: readonly Database[],
  tagsOf: (db: Database) => Record<string, string>,
): Resource[] {
  const arns = arnsOf(context);
  return databases.map((db) => {
    // arn:PARTITION:rds:REGION:ACCOUNT:db:NAME (or :cluster:NAME)
    const account = db.arn.split(':')[4] ?? 'unknown';
    const id = awsId(api.kind, scope.connection.region, account, db.name);
    arns.set(id, db.arn);
    return {
      id,
      provider: 'aws',
      kind: api.kind,
      name: db.name,
      tags: tagsOf(db),
      // Without a class there is no price to choose: the size waits for one.
      ...(db.size.type === undefined ? {} : { size: db.size }),
    };
  });
}

/** The named databases as they are now, by name; their ARNs remembered. */
async function describeNamed(
  context: KindContext,
  client: RDSClient,
  api: DatabaseApi,
  resources: readonly Resource[],
): Promise<Map<string, Database>> {
  const byName = new Map(
    (await describeInBatches(client, api, resources.map(nameOf))).map((db) => [db.name, db]),
  );
  const arns = arnsOf(context);
  for (const r of resources) {
    const arn = byName.get(nameOf(r))?.arn;
    if (arn !== undefined) arns.set(r.id, arn);
  }
  return byName;
}

async function describeInBatches(
  client: RDSClient,
  api: DatabaseApi,
  names: readonly string[],
): Promise<Database[]> {
  const found: Database[] = [];
  for (let i = 0; i < names.length; i += RDS_DESCRIBE_BATCH) {
    const batch = names.slice(i, i + RDS_DESCRIBE_BATCH);
    found.push(...(await api.describe(client, [{ Name: api.idFilter, Values: batch }])));
  }
  return found;
}

function instanceOf(instance: DBInstance): Database {
  const unstoppable = whyInstanceCannotStop(instance);
  return {
    name: instance.DBInstanceIdentifier ?? '',
    arn: instance.DBInstanceArn ?? '',
    status: instance.DBInstanceStatus ?? '',
    tags: tagRecord(instance.TagList),
    ...(instance.DBClusterIdentifier === undefined
      ? {}
      : { cluster: instance.DBClusterIdentifier }),
    size: definedOnly({
      type: instance.DBInstanceClass,
      engine: instance.Engine,
      multiAz: instance.MultiAZ,
    }),
    ...(unstoppable === undefined ? {} : { unstoppable }),
  };
}

function clusterOf(cluster: DBCluster): Database {
  const unstoppable = whyClusterCannotStop(cluster);
  return {
    name: cluster.DBClusterIdentifier ?? '',
    arn: cluster.DBClusterArn ?? '',
    status: cluster.Status ?? '',
    tags: tagRecord(cluster.TagList),
    size: definedOnly({
      type: cluster.DBClusterInstanceClass,
      engine: cluster.Engine,
      storageType: cluster.StorageType,
    }),
    members: (cluster.DBClusterMembers ?? []).flatMap((m) => m.DBInstanceIdentifier ?? []),
    ...(unstoppable === undefined ? {} : { unstoppable }),
  };
}

/**
 * A cluster sized by its members, which stopping it stops: their count, and their
 * class when they all share one (a cluster of mixed classes has no single price).
 */
function withMembers(
  cluster: Database,
  classes: ReadonlyMap<string, string | undefined>,
): Database {
  const members = cluster.members ?? [];
  const shared = new Set(members.map((m) => classes.get(m)));
  const [type] = shared;
  return {
    ...cluster,
    size: {
      ...cluster.size,
      count: members.length,
      ...(shared.size === 1 && type !== undefined ? { type } : {}),
    },
  };
}

/** The size without its unknown parts, so the inventory keeps what it knew of them. */
function definedOnly(size: ResourceSize): ResourceSize {
  return Object.fromEntries(Object.entries(size).filter(([, v]) => v !== undefined));
}

function whyInstanceCannotStop(instance: DBInstance): string | undefined {
  const source =
    instance.ReadReplicaSourceDBInstanceIdentifier ?? instance.ReadReplicaSourceDBClusterIdentifier;
  if (source !== undefined)
    return `it is a read replica of ${source}, and RDS cannot stop a read replica (${STOP_INSTANCE_DOC})`;
  const replicas = [
    ...(instance.ReadReplicaDBInstanceIdentifiers ?? []),
    ...(instance.ReadReplicaDBClusterIdentifiers ?? []),
  ];
  if (replicas.length > 0)
    return `it has read replicas (${replicas.join(', ')}), and RDS cannot stop a DB instance that has one (${STOP_INSTANCE_DOC})`;
  if (instance.Engine?.startsWith('sqlserver') === true && instance.MultiAZ === true)
    return `RDS cannot stop an RDS for SQL Server DB instance in a Multi-AZ configuration (${STOP_INSTANCE_DOC})`;
  return undefined;
}

function whyClusterCannotStop(cluster: DBCluster): string | undefined {
  const engine = cluster.Engine ?? '';
  if (!engine.startsWith('aurora') && engine !== 'neptune' && engine !== 'docdb')
    return `it is a Multi-AZ DB cluster (engine ${engine}), which RDS cannot stop (${MULTI_AZ_CLUSTER_DOC})`;
  const refuse = (why: string) =>
    `${why}, and such a cluster cannot be stopped (${STOP_CLUSTER_DOC})`;
  const replicas = cluster.ReadReplicaIdentifiers ?? [];
  if (cluster.GlobalClusterIdentifier !== undefined || cluster.EngineMode === 'global')
    return refuse(
      `it is part of the global database ${cluster.GlobalClusterIdentifier ?? '(unnamed)'}`,
    );
  if (cluster.ReplicationSourceIdentifier !== undefined)
    return refuse(`it replicates from ${cluster.ReplicationSourceIdentifier}`);
  if (replicas.length > 0) return refuse(`it has read replicas (${replicas.join(', ')})`);
  if (cluster.EngineMode === 'serverless') return refuse('it is an Aurora Serverless v1 cluster');
  if (cluster.EngineMode === 'multimaster') return refuse('it is a multi-master cluster');
  return undefined;
}

/**
 * Statuses other than running ones. Every status not listed (available,
 * backing-up, modifying, maintenance, upgrading, storage-full...) is a running,
 * billed database: `on` (the status tables of
 * https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/accessing-monitoring.html and
 * https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/accessing-monitoring.html).
 */
const OBSERVED: Readonly<Record<string, Observed>> = {
  stopped: 'off',
  stopping: 'stopping',
  starting: 'starting',
  creating: 'starting',
  deleting: 'missing',
};

/** Statuses a database does not leave by itself: a person must act (a KMS key, a parameter group...). */
const BROKEN = new Set([
  'failed',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'incompatible-network',
  'incompatible-option-group',
  'incompatible-parameters',
  'incompatible-restore',
  'insufficient-capacity',
  'restore-error',
  'cloning-failed',
  'migration-failed',
]);

/** Refused because the database is busy or between states: retried. */
const BUSY_FAULTS = new Set(['InvalidDBInstanceStateFault', 'InvalidDBClusterStateFault']);

function observationOf(api: DatabaseApi, db: Database): Observation {
  if (BROKEN.has(db.status))
    return { state: 'failed', reason: `the ${api.noun} ${db.name} is ${db.status}` };
  return OBSERVED[db.status] ?? 'on';
}

async function change(
  client: RDSClient,
  api: DatabaseApi,
  resource: Resource,
  db: Database | undefined,
  target: PowerState,
): Promise<ActOutcome> {
  const id = resource.id;
  if (db === undefined)
    return { id, result: 'failed', reason: `the ${api.noun} ${resource.name} no longer exists` };
  if (BROKEN.has(db.status))
    return { id, result: 'failed', reason: `the ${api.noun} ${db.name} is ${db.status}` };
  if (target === 'off') {
    if (db.status === 'stopped' || db.status === 'stopping') return { id, result: 'already' };
    if (db.unstoppable !== undefined)
      return { id, result: 'failed', reason: `cannot stop ${db.name}: ${db.unstoppable}` };
    return send(id, () => api.stop(client, db.name));
  }
  if (db.status === 'stopped') return send(id, () => api.start(client, db.name));
  if (db.status === 'stopping')
    return { id, result: 'transient', reason: `${db.name} is still stopping` };
  return { id, result: 'already' };
}

/** A busy database is retried; other errors are left to `eachResource`. */
async function send(id: string, request: () => Promise<unknown>): Promise<ActOutcome> {
  try {
    await request();
    return { id, result: 'accepted' };
  } catch (error) {
    if (BUSY_FAULTS.has((error as { name?: string }).name ?? ''))
      return { id, result: 'transient', reason: messageOf(error) };
    throw error;
  }
}
