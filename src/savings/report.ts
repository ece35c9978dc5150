/**
 * The savings report for a window: per environment (and per day, week or month
 * when asked), hours off and saved, money, energy and carbon, from the power
 * ledger (what the event log says happened) and the inventory in the store, the baselines and prices in the config. Shared
 * by the CLI (`lightsout savings`) and the API.
 */
import type { Environment, Instant, Interval } from '../core/glossary.js';
import type { ResourceRates, SavingsPeriod } from '../core/savings.js';
import { hoursOf, intersect, periodStarts, splitAt } from '../core/savings.js';
import type { Fleet } from '../core/planner.js';
import type { StoredResource } from '../store/queries/resources.js';
import type { Store } from '../store/store.js';
import type { PricedResource } from './rates.js';
import { ratesOf } from './rates.js';
import { baselinesOf } from './baselines.js';

const HOUR = 3_600_000;

export interface SavingsFigures {
  hoursOff: number;
  hoursSaved: number;
  /** USD, over the priced resources only. */
  money: number;
  kwh: number;
  kgCo2e: number;
}

export interface EnvironmentSavings extends SavingsFigures {
  readonly environment: string;
  readonly team: string | null;
  readonly resources: readonly ResourceLine[];
  /** Resources with no known price: counted in hours, not valued. */
  readonly unpriced: readonly string[];
  /** Resources whose size is unknown: no energy or carbon counted for them. */
  readonly unmeasured: readonly string[];
  readonly periods: readonly ({ readonly start: string } & SavingsFigures)[];
}

export interface ResourceLine {
  readonly resource: string;
  readonly kind: string;
  readonly hoursOff: number;
  readonly hoursSaved: number;
  readonly money: number | null;
  readonly kwh: number | null;
  readonly kgCo2e: number | null;
  readonly priceSource: string | null;
}

export interface SavingsReport {
  readonly from: string;
  readonly to: string;
  readonly by: SavingsPeriod | null;
  readonly currency: 'USD';
  readonly environments: readonly EnvironmentSavings[];
  readonly totals: SavingsFigures;
  /** What the figures do and do not include, in words. */
  readonly notes: readonly string[];
}

export interface SavingsInput {
  readonly window: Interval;
  readonly by?: SavingsPeriod | undefined;
  readonly environments: readonly Environment[];
  readonly schedules: Fleet['schedules'];
}

const zero = (): SavingsFigures => ({ hoursOff: 0, hoursSaved: 0, money: 0, kwh: 0, kgCo2e: 0 });

export async function savingsReport(
  store: Pick<Store, 'offTotals' | 'offIntervalsIn' | 'listResources'>,
  input: SavingsInput,
): Promise<SavingsReport> {
  const off = await offTimes(store, input);
  const inventory = new Map((await store.listResources()).map((r) => [r.id, r]));
  const totals = zero();
  const kinds = new Set<string>();
  const environments = input.environments.map((environment) => {
    const figures = zero();
    const periods = new Map<Instant, SavingsFigures>();
    const resources: ResourceLine[] = [];
    const unpriced: string[] = [];
    const unmeasured: string[] = [];
    for (const unit of off.get(environment.name) ?? []) {
      const stored = inventory.get(unit.resource);
      const kind = stored?.kind ?? unit.resource.split(':')[1] ?? 'resource';
      kinds.add(kind);
      const priced = pricedOf(unit.resource, stored, kind);
      const rates = ratesOf(priced, environment.name, environment.savings);
      const line = valued(unit.hoursOff, unit.hoursSaved, rates);
      add(figures, line);
      if (rates.hourly === undefined) unpriced.push(unit.resource);
      if (rates.kwhPerHour === undefined) unmeasured.push(unit.resource);
      resources.push({
        resource: unit.resource,
        kind,
        ...line,
        priceSource: rates.priceSource ?? null,
      });
      for (const [start, hours] of unit.periods) {
        const period = periods.get(start) ?? zero();
        add(period, valued(0, hours, rates));
        periods.set(start, period);
      }
    }
    add(totals, figures);
    return {
      environment: environment.name,
      team: environment.team ?? null,
      ...figures,
      resources,
      unpriced,
      unmeasured,
      periods: [...periods]
        .sort(([a], [b]) => a - b)
        .map(([start, f]) => ({ start: new Date(start).toISOString(), ...f })),
    };
  });
  return {
    from: new Date(input.window.start).toISOString(),
    to: new Date(input.window.end).toISOString(),
    by: input.by ?? null,
    currency: 'USD',
    environments,
    totals,
    notes: notesFor(kinds),
  };
}

/** A resource's off time within the window: hours off, hours saved, saved hours per period. */
interface UnitOff {
  readonly resource: string;
  readonly hoursOff: number;
  readonly hoursSaved: number;
  readonly periods: ReadonlyMap<Instant, number>;
}

/** Environments whose off intervals are read per query: bounds memory, whatever the fleet. */
const ENVIRONMENTS_PER_SCAN = 50;

/**
 * Per environment, each resource that was off within the window. Without a baseline
 * schedule (always on), and with few periods, a resource's off time up to each
 * period boundary comes from the power ledger: one indexed lookup per resource and
 * boundary. With a baseline, or by day, its off intervals within the window are
 * read instead (fewer rows than lookups then), environments a few at a time,
 * intersected with the baseline's on-time and split by period.
 */
async function offTimes(
  store: Pick<Store, 'offTotals' | 'offIntervalsIn'>,
  input: SavingsInput,
): Promise<Map<string, UnitOff[]>> {
  const { window } = input;
  // Once per zone: a thousand environments share a handful of zones.
  const byZone = new Map<string, Instant[]>();
  const boundariesIn = (zone: string) => {
    let starts = byZone.get(zone);
    if (starts === undefined) {
      starts =
        input.by === undefined ? [window.start, window.end] : periodStarts(window, zone, input.by);
      byZone.set(zone, starts);
    }
    return starts;
  };
  const boundaries = new Map(input.environments.map((e) => [e.name, boundariesIn(e.timezone)]));
  const result = new Map<string, UnitOff[]>();
  const push = (environment: string, unit: UnitOff) => {
    if (unit.hoursOff <= 0) return;
    const list = result.get(environment) ?? [];
    list.push(unit);
    result.set(environment, list);
  };
  const scanned = (e: Environment) => e.savings?.baseline !== undefined || input.by === 'day';
  const looked = input.environments.filter((e) => !scanned(e));
  for (const unit of await lookedUp(store, looked, boundaries, input)) push(unit.environment, unit);
  const withScan = input.environments.filter(scanned);
  const baselines = baselinesOf(input.schedules, window, withScan);
  for (let k = 0; k < withScan.length; k += ENVIRONMENTS_PER_SCAN) {
    const names = withScan.slice(k, k + ENVIRONMENTS_PER_SCAN).map((e) => e.name);
    for (const unit of await store.offIntervalsIn(names, window)) {
      const baseline = baselines.get(unit.environment);
      const saved = baseline === undefined ? unit.off : intersect(unit.off, baseline);
      const periods = new Map<Instant, number>();
      if (input.by !== undefined)
        for (const [start, part] of splitAt(saved, boundaries.get(unit.environment)!))
          periods.set(start, hoursOf(part));
      push(unit.environment, {
        resource: unit.resource,
        hoursOff: hoursOf(unit.off),
        hoursSaved: hoursOf(saved),
        periods,
      });
    }
  }
  return result;
}

/**
 * Off time per resource and period from the ledger's running totals at each
 * boundary; environments with the same boundaries (the same zone) share queries.
 */
async function lookedUp(
  store: Pick<Store, 'offTotals'>,
  environments: readonly Environment[],
  boundaries: ReadonlyMap<string, readonly Instant[]>,
  input: SavingsInput,
): Promise<(UnitOff & { environment: string })[]> {
  // Environments of one zone share one boundaries array (see offTimes).
  const byBoundaries = new Map<readonly Instant[], Environment[]>();
  for (const e of environments) {
    const starts = boundaries.get(e.name)!;
    const group = byBoundaries.get(starts) ?? [];
    group.push(e);
    byBoundaries.set(starts, group);
  }
  const units: (UnitOff & { environment: string })[] = [];
  for (const [starts, group] of byBoundaries) {
    const totals = await store.offTotals(
      group.map((e) => e.name),
      starts,
    );
    for (const unit of totals) {
      const periods = new Map<Instant, number>();
      if (input.by !== undefined)
        for (let k = 0; k < starts.length - 1; k++) {
          const ms = unit.offMs[k + 1]! - unit.offMs[k]!;
          if (ms > 0) periods.set(starts[k]!, ms / HOUR);
        }
      const hours = (unit.offMs.at(-1)! - unit.offMs[0]!) / HOUR;
      units.push({
        environment: unit.environment,
        resource: unit.resource,
        hoursOff: hours,
        hoursSaved: hours,
        periods,
      });
    }
  }
  return units;
}

/** A resource as the inventory knows it, with its size (type, count, task size) for the price table. */
function pricedOf(id: string, stored: StoredResource | undefined, kind: string): PricedResource {
  return {
    id,
    name: stored?.name ?? id.split(':').at(-1) ?? id,
    kind,
    ...(stored?.size === undefined ? {} : { size: stored.size }),
  };
}

function valued(hoursOff: number, hoursSaved: number, rates: ResourceRates) {
  const kwh = rates.kwhPerHour === undefined ? null : hoursSaved * rates.kwhPerHour;
  return {
    hoursOff,
    hoursSaved,
    money: rates.hourly === undefined ? null : hoursSaved * rates.hourly,
    kwh,
    kgCo2e: kwh === null || rates.kgPerKwh === undefined ? null : kwh * rates.kgPerKwh,
  };
}

function add(into: SavingsFigures, line: ReturnType<typeof valued>): void {
  into.hoursOff += line.hoursOff;
  into.hoursSaved += line.hoursSaved;
  into.money += line.money ?? 0;
  into.kwh += line.kwh ?? 0;
  into.kgCo2e += line.kgCo2e ?? 0;
}

function notesFor(kinds: ReadonlySet<string>): string[] {
  const notes = [
    'Measured from what happened (the event log), not from the plan; money is list price x hours saved, for priced resources only.',
    'Energy and carbon are estimates (Cloud Carbon Footprint method: average watts per vCPU and memory, AWS PUE, the grid of the region), for resources whose size is known.',
  ];
  if (kinds.has('ec2') || kinds.has('asg'))
    notes.push('A stopped EC2 instance still pays for its EBS volumes: not counted as saved.');
  if (kinds.has('rds') || kinds.has('aurora'))
    notes.push(
      'A stopped database still pays for its storage and backups: only instance hours are counted.',
    );
  if (kinds.has('stack'))
    notes.push(
      'A stack torn down while off costs nothing then: its saving is what its resources cost.',
    );
  return notes;
}
