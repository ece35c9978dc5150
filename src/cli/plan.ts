import { DateTime } from 'luxon';
import { describeSchedule } from '../core/describe.js';
import type { Environment, Instant, Interval, Plan } from '../core/glossary.js';
import type { Fleet } from '../core/planner.js';
import { planFleet } from '../core/planner.js';
import { INSTANT_HINT, parseInstant } from '../core/time-text.js';
import { formatDiagnostic, loadConfigFile } from '../config/load.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';
import { formatTable } from './table.js';
import { planSavings } from './plan-savings.js';
import { DEFAULT_DB } from './serve.js';
import type { ReadyByReports } from './plan-ready-by.js';
import { readyByReports } from './plan-ready-by.js';
import { readyByJson, readyByText } from './plan-ready-by-text.js';

export interface PlanOptions {
  readonly config: string;
  readonly from?: string;
  readonly to?: string;
  readonly env?: readonly string[];
  readonly json?: boolean;
  /** Project savings instead of listing transitions (default window: 30 days). */
  readonly savings?: boolean;
  readonly proposed?: string;
  readonly db?: string;
}

const DAY = 86_400_000;
const DEFAULT_DAYS = 7;
/** Savings are projected over about a month unless --to says otherwise. */
const SAVINGS_DAYS = 30;
/** Longer windows are refused: they print thousands of lines and nobody reads them. */
const MAX_DAYS = 5 * 366;

/** `lightsout plan`: the desired state of each environment at `--from` and its transitions until `--to`. */
export async function planCommand(options: PlanOptions, io: CliIo): Promise<number> {
  const loaded = await loadConfigFile(options.config);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.err(formatDiagnostic(d));
    return EXIT.invalidConfig;
  }
  const { fleet, document } = loaded.config;
  if (options.proposed !== undefined && options.savings !== true)
    throw new UsageError('--proposed compares savings: add --savings');
  const window = planWindow(
    options,
    document.timezone,
    io.now(),
    options.savings === true ? SAVINGS_DAYS : DEFAULT_DAYS,
  );
  const selected = selectEnvironments(fleet, options.env);
  if (options.savings === true)
    return planSavings(
      loaded.config,
      selected,
      window,
      { ...options, db: options.db ?? DEFAULT_DB },
      io,
    );
  const timelines = planFleet(fleet, window, new Set(selected.map((e) => e.name)));
  const plans = new Map(selected.map((e) => [e.name, timelines.get(e.name)!.plan()]));
  const readyBy = await readyByReports(loaded.config, selected, window, options.db ?? DEFAULT_DB);
  io.out(
    options.json === true
      ? JSON.stringify(planJson(plans, readyBy))
      : planText(fleet, selected, plans, readyBy),
  );
  return EXIT.ok;
}

function planWindow(options: PlanOptions, zone: string, now: Instant, days: number): Interval {
  const read = (flag: string, text: string | undefined, fallback: Instant): Instant => {
    if (text === undefined) return fallback;
    const parsed = parseInstant(text, zone);
    if (!parsed.ok)
      throw new UsageError(
        `--${flag} "${text}" is not a date and time; ${INSTANT_HINT.replace('the zone', `the config's timezone, ${zone}`)}`,
      );
    return parsed.value;
  };
  const start = read('from', options.from, now);
  const end = read('to', options.to, start + days * DAY);
  if (end <= start)
    throw new UsageError(`--to (${iso(end)}) must be later than --from (${iso(start)})`);
  if (end - start > MAX_DAYS * DAY)
    throw new UsageError(
      `the window is longer than ${MAX_DAYS} days; plan a shorter window with --from and --to`,
    );
  return { start, end };
}

function selectEnvironments(fleet: Fleet, names: readonly string[] | undefined): Environment[] {
  if (names === undefined || names.length === 0) return [...fleet.environments];
  const byName = new Map(fleet.environments.map((e) => [e.name, e]));
  return names.map((name) => {
    const found = byName.get(name);
    if (found === undefined) {
      throw new UsageError(
        `--env "${name}" is not an environment of this config; known: ${[...byName.keys()].join(', ')}`,
      );
    }
    return found;
  });
}

/**
 * The `--json` shape: `{"environments": {"dev": {"initial": "off", "transitions":
 * [{"at": ..., "state": "on"}]}}}`, and `readyBy` for environments whose starts are
 * planned early (see docs/ready-by.md).
 */
export function planJson(
  plans: ReadonlyMap<string, Plan>,
  readyBy: ReadyByReports = { kind: 'none' },
): unknown {
  const environments: Record<string, unknown> = {};
  for (const [name, plan] of plans) {
    const report = readyBy.kind === 'reports' ? readyBy.reports.get(name) : undefined;
    environments[name] = {
      initial: plan.initial,
      transitions: plan.transitions.map((t) => ({ at: iso(t.at), state: t.state })),
      ...(report === undefined ? {} : { readyBy: readyByJson(report) }),
    };
  }
  return { environments };
}

function planText(
  fleet: Fleet,
  environments: readonly Environment[],
  plans: ReadonlyMap<string, Plan>,
  readyBy: ReadyByReports,
): string {
  return environments
    .map((e) =>
      [environmentText(fleet, e, plans.get(e.name)!), ...readyByText(e, readyBy)].join('\n'),
    )
    .join('\n\n');
}

function environmentText(fleet: Fleet, environment: Environment, plan: Plan): string {
  const zone = environment.timezone;
  const schedule =
    environment.schedule === undefined ? undefined : fleet.schedules.get(environment.schedule);
  const lines = [
    `${environment.name}${environment.team === undefined ? '' : ` (team ${environment.team})`}`,
    schedule === undefined
      ? '  schedule: none; off unless reserved or held on'
      : `  schedule ${schedule.name}: ${describeSchedule(schedule)}`,
    ...fleet.reservations
      .filter(
        (r) =>
          r.environment === environment.name &&
          r.to > plan.window.start &&
          r.from < plan.window.end,
      )
      .map((r) => `  reservation: ${local(r.from, zone)} until ${local(r.to, zone)}`),
    ...fleet.holds
      .filter(
        (h) =>
          h.environment === environment.name &&
          h.until > plan.window.start &&
          (h.from ?? -Infinity) < plan.window.end,
      )
      .map(
        (h) =>
          `  hold: ${h.state}${h.from === undefined ? '' : ` from ${local(h.from, zone)}`} until ${local(h.until, zone)}`,
      ),
    `  ${plan.initial} at ${local(plan.window.start, zone)} (${iso(plan.window.start)})`,
  ];
  if (plan.transitions.length === 0) {
    lines.push(`  no transitions until ${local(plan.window.end, zone)}`);
  } else {
    const rows = plan.transitions.map((t) => [local(t.at, zone), iso(t.at), t.state]);
    lines.push(formatTable([`LOCAL (${zone})`, 'UTC', 'STATE'], rows, '  '));
  }
  return lines.join('\n');
}

function local(t: Instant, zone: string): string {
  return DateTime.fromMillis(t, { zone }).toFormat('ccc yyyy-LL-dd HH:mm ZZ');
}

function iso(t: Instant): string {
  return new Date(t).toISOString();
}
