/**
 * What one resource costs and draws while it runs: the config's price first (by
 * resource name, then the environment's flat `hourly`), else the shipped table for
 * its type and region less the environment's `discount`. Energy follows the Cloud
 * Carbon Footprint method for the types whose vCPUs and memory are known. A
 * resource with neither is left unpriced: counted in hours, never valued at 0.
 */
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
import { EC2_HOURLY } from './price-data.js';

/** An environment's `savings` in the config. */
export interface PriceOverrides {
  readonly hourly?: number | undefined;
  readonly resources?: Readonly<Record<string, number>> | undefined;
  readonly discount?: number | undefined;
}

/** What is known of a resource: its inventory row, and its type when the provider reports one. */
export interface PricedResource {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  /** An instance type or class (t3.large), when known. */
  readonly type?: string | undefined;
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

export function ratesOf(
  resource: PricedResource,
  environment: string,
  overrides: PriceOverrides | undefined,
): ResourceRates {
  const region = regionOf(resource.id);
  const specs = resource.type === undefined ? undefined : EC2_SPECS[resource.type];
  const footprint =
    specs === undefined
      ? {}
      : {
          kwhPerHour: kwhPerHour(specs[0], specs[1]),
          kgPerKwh: region === undefined ? undefined : GRID_KG_PER_KWH[region],
        };
  const own = overrides?.resources?.[resource.name];
  if (own !== undefined)
    return {
      hourly: own,
      priceSource: `config: environments.${environment}.savings.resources`,
      ...footprint,
    };
  const listed =
    resource.kind === 'ec2' && resource.type !== undefined && region !== undefined
      ? EC2_HOURLY[region]?.[resource.type]
      : undefined;
  if (listed !== undefined)
    return {
      hourly: listed * (1 - (overrides?.discount ?? 0)),
      priceSource: `price table: EC2 ${resource.type} in ${region}${overrides?.discount === undefined ? '' : `, less ${overrides.discount * 100} %`}`,
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
