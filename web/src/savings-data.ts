/**
 * The savings page's data: the report (GET /api/v1/savings) and the projection
 * (GET /api/v1/savings/projection) as the API answers them, the chart's series
 * per team or environment, and how figures are written (units and currency named).
 */
import { call } from './api';

export type By = 'day' | 'week' | 'month';
export type GroupBy = 'team' | 'environment';
export type Measure = 'money' | 'hoursSaved' | 'kwh' | 'kgCo2e';

export interface Figures {
  readonly hoursOff: number;
  readonly hoursSaved: number;
  readonly money: number;
  readonly kwh: number;
  readonly kgCo2e: number;
}

export interface EnvironmentSavings extends Figures {
  readonly environment: string;
  readonly team: string | null;
  readonly unpriced: readonly string[];
  readonly unmeasured: readonly string[];
  readonly periods: readonly ({ readonly start: string } & Figures)[];
}

export interface SavingsReport {
  readonly from: string;
  readonly to: string;
  readonly by: By | null;
  readonly currency: 'USD';
  readonly environments: readonly EnvironmentSavings[];
  readonly totals: Figures;
  readonly notes: readonly string[];
}

export interface ProjectedFigures {
  readonly hoursOff: number;
  readonly resourceHoursSaved: number;
  readonly money: number;
  readonly kwh: number;
  readonly kgCo2e: number;
  readonly resources: number;
  readonly unpriced: number;
}

export interface Projection {
  readonly from: string;
  readonly to: string;
  readonly currency: 'USD';
  readonly proposed: { readonly name: string | null; readonly text: string } | null;
  readonly environments: readonly {
    readonly environment: string;
    readonly team: string | null;
    readonly timezone: string;
    readonly schedule: { readonly name: string; readonly text: string } | null;
    readonly current: ProjectedFigures;
    readonly proposed: ProjectedFigures | null;
  }[];
  readonly totals: {
    readonly current: ProjectedFigures;
    readonly proposed: ProjectedFigures | null;
  };
  readonly schedules: readonly { readonly name: string; readonly text: string }[];
  readonly notes: readonly string[];
}

export function savingsReport(from: string, to: string, by: By): Promise<SavingsReport> {
  const query = new URLSearchParams({ from, to, by });
  return call('GET', `/api/v1/savings?${query.toString()}`);
}

/** The projection's query: an environment and a proposal (a schedule's name, or office hours). */
export function projection(query: Record<string, string>): Promise<Projection> {
  const q = new URLSearchParams(query).toString();
  return call('GET', `/api/v1/savings/projection${q === '' ? '' : `?${q}`}`);
}

export const MEASURES: readonly {
  readonly key: Measure;
  readonly label: string;
  readonly unit: string;
}[] = [
  { key: 'money', label: 'Money saved', unit: 'USD' },
  { key: 'hoursSaved', label: 'Resource hours saved', unit: 'h' },
  { key: 'kwh', label: 'Energy saved (estimate)', unit: 'kWh' },
  { key: 'kgCo2e', label: 'Carbon avoided (estimate)', unit: 'kg CO2e' },
];

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const decimal = (digits: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const one = decimal(1);
const three = decimal(3);

/** A figure with its unit: "$12.34", "118.0 h", "1.234 kWh", "0.560 kg CO2e". */
export function formatMeasure(
  measure: Measure | 'hoursOff' | 'resourceHoursSaved',
  value: number,
): string {
  switch (measure) {
    case 'money':
      return usd.format(value);
    case 'hoursSaved':
    case 'hoursOff':
    case 'resourceHoursSaved':
      return `${one.format(value)} h`;
    case 'kwh':
      return `${three.format(value)} kWh`;
    case 'kgCo2e':
      return `${three.format(value)} kg CO2e`;
  }
}

/** A figure for a table whose header names the unit: "$12.34", "118.0", "1.234". */
export function formatNumber(
  measure: Measure | 'hoursOff' | 'resourceHoursSaved',
  value: number,
): string {
  if (measure === 'money') return usd.format(value);
  return (measure === 'kwh' || measure === 'kgCo2e' ? three : one).format(value);
}

export interface Series {
  readonly label: string;
  /** One value per period start of `starts`; 0 where nothing was saved. */
  readonly values: number[];
}

export interface ChartData {
  /** Period starts, epoch milliseconds, ascending. */
  readonly starts: number[];
  readonly series: Series[];
}

export const NO_TEAM = '(no team)';

/** Per team or per environment, the measure summed per period start. */
export function chartData(report: SavingsReport, group: GroupBy, measure: Measure): ChartData {
  const starts = [
    ...new Set(report.environments.flatMap((e) => e.periods.map((p) => Date.parse(p.start)))),
  ].sort((a, b) => a - b);
  const index = new Map(starts.map((s, k) => [s, k]));
  const byLabel = new Map<string, number[]>();
  for (const e of report.environments) {
    const label = group === 'team' ? (e.team ?? NO_TEAM) : e.environment;
    const values = byLabel.get(label) ?? starts.map(() => 0);
    for (const p of e.periods) values[index.get(Date.parse(p.start))!]! += p[measure];
    byLabel.set(label, values);
  }
  return {
    starts,
    series: [...byLabel]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([label, values]) => ({ label, values })),
  };
}

/** The zone the periods are cut in: the environments' one, or UTC (said) when they differ. */
export function chartZone(zones: readonly string[]): string {
  const distinct = [...new Set(zones)];
  return distinct.length === 1 ? distinct[0]! : 'UTC';
}

/** "Mon 17 Nov 2026", "Nov 2026": a period's start in `zone`. */
export function periodLabel(start: number, by: By, zone: string): string {
  const options: Intl.DateTimeFormatOptions =
    by === 'month'
      ? { timeZone: zone, month: 'short', year: 'numeric' }
      : { timeZone: zone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' };
  return new Intl.DateTimeFormat('en-GB', options).format(new Date(start));
}

/** "17 Nov 2026, 06:31 UTC": an instant of the window, with its zone named. */
export function instantLabel(iso: string, zone = 'UTC'): string {
  const text = new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(iso));
  return `${text} ${zone}`;
}

/** The sum of some figures. */
export function sum(list: readonly Figures[]): Figures {
  const total = { hoursOff: 0, hoursSaved: 0, money: 0, kwh: 0, kgCo2e: 0 };
  for (const f of list) {
    total.hoursOff += f.hoursOff;
    total.hoursSaved += f.hoursSaved;
    total.money += f.money;
    total.kwh += f.kwh;
    total.kgCo2e += f.kgCo2e;
  }
  return total;
}
