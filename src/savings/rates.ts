/**
 * What one resource costs and draws while it runs: its own price in the config
 * first (by resource name), else the shipped table for its size and region less
 * the environment's `discount`, else the environment's flat `hourly`. The table
 * prices an EC2 instance by its type, an Auto Scaling group as its instance count x
 * that type, an ECS service whose tasks all run on Fargate (on demand, Linux) as
 * its task count x (vCPU x vCPU-hour + GB x GB-hour), at the ARM64 rates for an
 * ARM64 task (a service on EC2 capacity, Fargate Spot or unknown capacity is not
 * priced as Fargate), an RDS DB instance by its class and engine when it is
 * Single-AZ, and an Aurora cluster as its instance count x their class, for its
 * engine, when its storage is Standard. Energy follows the Cloud Carbon Footprint
 * method for the sizes whose vCPUs and memory are known. A resource with neither
 * is left unpriced: counted in hours, never valued at 0.
 */
import type { ResourceSize, SavingsSettings } from '../core/glossary.js';
import type { ResourceRates } from '../core/savings.js';
import {
  AVERAGE_CPU_UTILIZATION,
  AWS_PUE,
  EC2_SPECS,
  GRID_KG_PER_KWH,
  MAX_WATTS_PER_VCPU,
  MEMORY_KWH_PER_GB_HOUR,
  MIN_WATTS_PER_VCPU,
} from './carbon-data.js';
import { EC2_HOURLY, FARGATE_HOURLY, RDS_HOURLY } from './price-data.js';

/** The prices of an environment's `savings` in the config. */
type PriceOverrides = Pick<SavingsSettings, 'hourly' | 'resources' | 'discount'>;

/** What is known of a resource: its inventory row, with the size its provider reported. */
export interface PricedResource {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly size?: ResourceSize | undefined;
}

/** The AWS region in an AWS resource id (`aws:KIND:REGION:ACCOUNT:ID`). */
export function regionOf(id: string): string | undefined {
  const [provider, , region] = id.split(':');
  return provider === 'aws' ? region : undefined;
}

/** kWh per hour of a machine with `vcpu` vCPUs and `memoryGb` of memory, CCF's averages. */
export function kwhPerHour(vcpu: number, memoryGb: number): number {
  const cpuWatts =
    MIN_WATTS_PER_VCPU + AVERAGE_CPU_UTILIZATION * (MAX_WATTS_PER_VCPU - MIN_WATTS_PER_VCPU);
  return ((cpuWatts * vcpu) / 1000 + MEMORY_KWH_PER_GB_HOUR * memoryGb) * AWS_PUE;
}

/** What runs while a resource is on: `count` machines of `vcpu` and `memoryGb` each. */
interface Machines {
  readonly count: number;
  readonly vcpu: number;
  readonly memoryGb: number;
}

/** The machines behind a resource, when its kind and size say; unknown otherwise. */
function machinesOf(kind: string, size: ResourceSize): Machines | undefined {
  if (kind === 'ec2' || kind === 'asg') {
    const specs = size.type === undefined ? undefined : EC2_SPECS[size.type];
    const count = kind === 'ec2' ? 1 : size.count;
    return specs === undefined || count === undefined
      ? undefined
      : { count, vcpu: specs[0], memoryGb: specs[1] };
  }
  // Fargate tasks alone: tasks on EC2 capacity draw from instances counted as those
  // instances (an Auto Scaling group), so counting them here would count them twice.
  if (
    kind === 'ecs' &&
    onFargate(size, FARGATE_PROVIDERS) &&
    size.vcpu !== undefined &&
    size.memoryGb !== undefined
  )
    return size.count === undefined
      ? undefined
      : { count: size.count, vcpu: size.vcpu, memoryGb: size.memoryGb };
  return undefined;
}

/**
 * A database's list price. The table holds Single-AZ DB instances and Aurora
 * Standard storage only: a Multi-AZ instance (billed for its standby too), an
 * I/O-Optimized cluster (a higher instance rate) or an unknown deployment has
 * another price, so it stays unpriced rather than undervalued.
 */
function databasePrice(
  kind: 'rds' | 'aurora',
  size: ResourceSize,
  region: string,
): { hourly: number; source: string } | undefined {
  const { type, engine, count } = size;
  if (type === undefined || engine === undefined) return undefined;
  // A Multi-AZ DB cluster (engine mysql or postgres) is of kind aurora and priced otherwise.
  if (engine.startsWith('aurora-') !== (kind === 'aurora')) return undefined;
  const each = RDS_HOURLY[region]?.[engine]?.[type]?.hourly;
  if (each === undefined) return undefined;
  if (kind === 'rds')
    return size.multiAz === false
      ? { hourly: each, source: `RDS ${type} (${engine}, Single-AZ) in ${region}` }
      : undefined;
  // Absent, StorageType means Standard: `aurora` is its default (API_CreateDBCluster).
  if (count === undefined || (size.storageType ?? 'aurora') !== 'aurora') return undefined;
  return {
    hourly: count * each,
    source: `${count} x Aurora ${type} (${engine}, Standard storage) in ${region}`,
  };
}

/** The Fargate capacity providers; FARGATE is also the Fargate launch type. */
const FARGATE_PROVIDERS: ReadonlySet<string> = new Set(['FARGATE', 'FARGATE_SPOT']);
/** What the table's Fargate rates price: on demand only, Spot costs less. */
const FARGATE_ON_DEMAND: ReadonlySet<string> = new Set(['FARGATE']);

/**
 * True when every task of an ECS service runs on capacity in `providers`: its
 * launch type, or every provider of its strategy. Unknown capacity is never true.
 */
function onFargate(size: ResourceSize, providers: ReadonlySet<string>): boolean {
  const capacity = size.capacity ?? [];
  return capacity.length > 0 && capacity.every((c) => providers.has(c));
}

/** The table's on-demand price of what runs, and where it comes from. */
function listedPrice(
  kind: string,
  size: ResourceSize,
  region: string | undefined,
): { hourly: number; source: string } | undefined {
  if (region === undefined) return undefined;
  const { type, count } = size;
  if (kind === 'rds' || kind === 'aurora') return databasePrice(kind, size, region);
  if ((kind === 'ec2' || kind === 'asg') && type !== undefined) {
    const each = EC2_HOURLY[region]?.[type];
    if (each === undefined) return undefined;
    if (kind === 'ec2') return { hourly: each, source: `EC2 ${type} in ${region}` };
    return count === undefined
      ? undefined
      : { hourly: count * each, source: `${count} x EC2 ${type} in ${region}` };
  }
  if (kind === 'ecs' && onFargate(size, FARGATE_ON_DEMAND)) {
    const rates = fargateRates(region, size);
    const { vcpu, memoryGb } = size;
    if (rates === undefined || vcpu === undefined || memoryGb === undefined || count === undefined)
      return undefined;
    const arm = size.cpuArchitecture === 'ARM64' ? ' ARM64' : '';
    return {
      hourly: count * (vcpu * rates.vcpuHour + memoryGb * rates.gbHour),
      source: `${count} x Fargate${arm} task of ${vcpu} vCPU and ${memoryGb} GB in ${region}`,
    };
  }
  return undefined;
}

/**
 * The table's Linux Fargate rates for a task's platform: ARM64 where the table has
 * them, x86 otherwise (also when the task definition names no architecture, the
 * table's base rates); Windows tasks pay an OS licence the table lacks.
 */
function fargateRates(
  region: string,
  size: ResourceSize,
): { vcpuHour: number; gbHour: number } | undefined {
  const fargate = FARGATE_HOURLY[region];
  if (fargate === undefined) return undefined;
  if (size.os !== undefined && size.os !== 'LINUX') return undefined;
  return size.cpuArchitecture === 'ARM64' ? fargate.arm : fargate;
}

export function ratesOf(
  resource: PricedResource,
  environment: string,
  overrides: PriceOverrides | undefined,
): ResourceRates {
  const region = regionOf(resource.id);
  const size = resource.size ?? {};
  const machines = machinesOf(resource.kind, size);
  const footprint =
    machines === undefined
      ? {}
      : {
          kwhPerHour: machines.count * kwhPerHour(machines.vcpu, machines.memoryGb),
          kgPerKwh: region === undefined ? undefined : GRID_KG_PER_KWH[region],
        };
  const own = overrides?.resources?.[resource.name];
  if (own !== undefined)
    return {
      hourly: own,
      priceSource: `config: environments.${environment}.savings.resources`,
      ...footprint,
    };
  const listed = listedPrice(resource.kind, size, region);
  if (listed !== undefined)
    return {
      hourly: listed.hourly * (1 - (overrides?.discount ?? 0)),
      priceSource: `price table: ${listed.source}${overrides?.discount === undefined ? '' : `, less ${overrides.discount * 100} %`}`,
      ...footprint,
    };
  if (overrides?.hourly !== undefined)
    return {
      hourly: overrides.hourly,
      priceSource: `config: environments.${environment}.savings.hourly`,
      ...footprint,
    };
  return footprint;
}
