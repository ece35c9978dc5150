/**
 * The savings report for a window: per environment (and per day, week or month
 * when asked), hours off and saved, money, energy and carbon, from the event log
 * and the inventory in the store, the baselines and prices in the config. Shared
 * by the CLI (`lightsout savings`) and the API.
 */
import type { Environment, Instant, Interval } from '../core/glossary.js';
import { planFleet } from '../core/planner.js';
import type { ResourceRates, SavingsEvent, SavingsPeriod } from '../core/savings.js';
import { hoursOf, intersect, offIntervals, periodStarts, splitAt } from '../core/savings.js';
import type { Fleet } from '../core/planner.js';
import type { StoredResource } from '../store/queries/resources.js';
import type { Store } from '../store/store.js';
import type { PricedResource } from './rates.js';
import { ratesOf } from './rates.js';

/** The event kinds that say a resource reached on or off (see core/savings.ts). */
const POWER_KINDS = ['run.finished', 'drift.detected', 'resource.restarted-by-itself'];
const PAGE = 1_000;

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
  store: Pick<Store, 'queryEvents' | 'listResources'>,
  input: SavingsInput,
): Promise<SavingsReport> {
  const names = input.environments.map((e) => e.name);
  const events = await powerEvents(store, names, input.window.end);
  const off = offIntervals(events, input.window);
  const inventory = new Map((await store.listResources()).map((r) => [r.id, r]));
  const totals = zero();
  const kinds = new Set<string>();
  const environments = input.environments.map((environment) => {
    const overrides = environment.savings;
    const baseline = baselineOf(environment, overrides?.baseline, input);
    const starts =
      input.by === undefined
        ? undefined
        : periodStarts(input.window, environment.timezone, input.by);
    const figures = zero();
    const periods = new Map<Instant, SavingsFigures>();
    const resources: ResourceLine[] = [];
    const unpriced: string[] = [];
    const unmeasured: string[] = [];
    for (const [id, found] of off) {
      if (found.environment !== environment.name) continue;
      const stored = inventory.get(id);
      const kind = stored?.kind ?? id.split(':')[1] ?? 'resource';
      kinds.add(kind);
      const rates = ratesOf(pricedOf(id, stored, kind), environment.name, overrides);
      const saved = baseline === undefined ? found.off : intersect(found.off, baseline);
      const line = valued(hoursOf(found.off), hoursOf(saved), rates);
      add(figures, line);
      if (rates.hourly === undefined) unpriced.push(id);
      if (rates.kwhPerHour === undefined) unmeasured.push(id);
      resources.push({ resource: id, kind, ...line, priceSource: rates.priceSource ?? null });
      if (starts !== undefined)
        for (const [start, part] of splitAt(saved, starts)) {
          const period = periods.get(start) ?? zero();
          add(period, valued(0, hoursOf(part), rates));
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

/** Every power event of the environments up to `until`, oldest first: a resource may have stopped before the window. */
async function powerEvents(
  store: Pick<Store, 'queryEvents'>,
  environments: readonly string[],
  until: Instant,
): Promise<SavingsEvent[]> {
  const events: SavingsEvent[] = [];
  for (const kind of POWER_KINDS) {
    let after: string | undefined;
    do {
      const page = await store.queryEvents(
        { environments, kind, to: until },
        { after, limit: PAGE },
      );
      events.push(...page.events);
      after = page.next;
    } while (after !== undefined);
  }
  return events;
}

/** The baseline's on-time over the window, when the environment names one. */
function baselineOf(
  environment: Environment,
  baseline: string | undefined,
  input: SavingsInput,
): readonly Interval[] | undefined {
  if (baseline === undefined) return undefined;
  const asBaseline = { ...environment, schedule: baseline };
  const fleet = {
    schedules: input.schedules,
    environments: [asBaseline],
    reservations: [],
    holds: [],
  };
  return planFleet(fleet, input.window).get(environment.name)!.onOf(undefined);
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
