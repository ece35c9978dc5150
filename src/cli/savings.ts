/**
 * `lightsout savings`: hours off, money and carbon saved, measured from the event
 * log of the store the server writes, per environment (and per day, week or
 * month), as a table, JSON or CSV.
 */
import type { Environment } from '../core/glossary.js';
import type { SavingsPeriod } from '../core/savings.js';
import type { SavingsReport } from '../savings/report.js';
import { savingsReport } from '../savings/report.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';
import type { StoreOptions } from './operate.js';
import { environmentOf, readTime, withContext } from './operate.js';
import { formatTable } from './table.js';

export interface SavingsOptions extends StoreOptions {
  readonly env?: string;
  readonly team?: string;
  readonly from?: string;
  readonly to?: string;
  readonly by?: string;
  readonly csv?: boolean;
}

const DAY = 86_400_000;
/** Without --from, the last 30 days. */
const DEFAULT_SPAN = 30 * DAY;
const PERIODS = ['day', 'week', 'month'] as const;

export async function savingsCommand(options: SavingsOptions, io: CliIo): Promise<number> {
  return withContext(
    options,
    io,
    (config, now) => {
      if (options.json === true && options.csv === true)
        throw new UsageError('give --json or --csv, not both');
      if (options.by !== undefined && !PERIODS.includes(options.by as SavingsPeriod))
        throw new UsageError(`--by "${options.by}" is not a period; write --by day, week or month`);
      const environments = chosen(config.fleet.environments, options, (name) =>
        environmentOf(config, name),
      );
      const zone = options.env === undefined ? undefined : environments[0]?.timezone;
      const to = options.to === undefined ? now : readTime('to', options.to, zone, now);
      const from =
        options.from === undefined ? to - DEFAULT_SPAN : readTime('from', options.from, zone, now);
      if (to <= from)
        throw new UsageError(
          `--to (${new Date(to).toISOString()}) is not after --from (${new Date(from).toISOString()}); give a later --to or an earlier --from`,
        );
      return {
        window: { start: from, end: to },
        by: options.by as SavingsPeriod | undefined,
        environments,
        schedules: config.fleet.schedules,
      };
    },
    async (context, input) => {
      const report = await savingsReport(context.store, input);
      if (options.json === true) io.out(JSON.stringify(report));
      else if (options.csv === true) io.out(csvOf(report));
      else io.out(textOf(report));
      return EXIT.ok;
    },
  );
}

/** The environments asked for: one (--env), a team's (--team), or all. */
function chosen(
  all: readonly Environment[],
  options: SavingsOptions,
  named: (name: string) => Environment,
): Environment[] {
  let environments = options.env === undefined ? [...all] : [named(options.env)];
  if (options.team !== undefined) {
    const teams = [...new Set(all.flatMap((e) => (e.team === undefined ? [] : [e.team])))];
    if (!teams.includes(options.team))
      throw new UsageError(
        `there is no team "${options.team}"; known: ${teams.join(', ') || 'none (set team: on environments)'}`,
      );
    environments = environments.filter((e) => e.team === options.team);
  }
  return environments;
}

const money = (usd: number) => usd.toFixed(2);
const hours = (h: number) => h.toFixed(1);
const kg = (value: number) => value.toFixed(3);
/** Energy and carbon only when some resource's size was known: never a made-up 0. */
const estimate = (
  value: number,
  e: { resources: readonly unknown[]; unmeasured: readonly unknown[] },
) => (e.unmeasured.length === e.resources.length ? '-' : kg(value));

function textOf(report: SavingsReport): string {
  const rows = report.environments.map((e) => [
    e.environment,
    e.team ?? '',
    hours(e.hoursOff),
    hours(e.hoursSaved),
    money(e.money),
    estimate(e.kwh, e),
    estimate(e.kgCo2e, e),
    e.unpriced.length === 0 ? '' : String(e.unpriced.length),
  ]);
  const t = report.totals;
  rows.push([
    'total',
    '',
    hours(t.hoursOff),
    hours(t.hoursSaved),
    money(t.money),
    kg(t.kwh),
    kg(t.kgCo2e),
    '',
  ]);
  const lines = [
    `savings from ${report.from} to ${report.to} (USD; energy and carbon are estimates)`,
    formatTable(
      ['ENVIRONMENT', 'TEAM', 'HOURS OFF', 'HOURS SAVED', 'USD', 'KWH', 'KG CO2E', 'UNPRICED'],
      rows,
    ),
  ];
  if (report.by !== null)
    lines.push(
      '',
      formatTable(
        ['ENVIRONMENT', report.by.toUpperCase(), 'HOURS SAVED', 'USD', 'KWH', 'KG CO2E'],
        report.environments.flatMap((e) =>
          e.periods.map((p) => [
            e.environment,
            p.start,
            hours(p.hoursSaved),
            money(p.money),
            kg(p.kwh),
            kg(p.kgCo2e),
          ]),
        ),
      ),
    );
  const unpriced = report.environments.flatMap((e) => e.unpriced);
  if (unpriced.length > 0)
    lines.push(
      '',
      `unpriced (counted in hours, not valued; set environments.NAME.savings.hourly or .resources): ${unpriced.join(', ')}`,
    );
  lines.push('', ...report.notes.map((n) => `note: ${n}`));
  return lines.join('\n');
}

/** One row per environment, or per environment and period with --by. */
function csvOf(report: SavingsReport): string {
  const header = [
    'environment',
    'team',
    'period',
    'hours_off',
    'hours_saved',
    'usd',
    'kwh',
    'kg_co2e',
  ];
  const rows = report.environments.flatMap((e) =>
    report.by === null
      ? [[e.environment, e.team ?? '', '', e.hoursOff, e.hoursSaved, e.money, e.kwh, e.kgCo2e]]
      : e.periods.map((p) => [
          e.environment,
          e.team ?? '',
          p.start,
          '',
          p.hoursSaved,
          p.money,
          p.kwh,
          p.kgCo2e,
        ]),
  );
  return [header, ...rows].map((r) => r.map((v) => csvField(String(v))).join(',')).join('\n');
}

function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
