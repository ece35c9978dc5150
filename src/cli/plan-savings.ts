/**
 * `lightsout plan --savings`: what the config would save over the window (default:
 * the next 30 days) on the inventory of the store, and with `--proposed FILE`
 * what that config would save instead: "dev: 9 % more".
 */
import type { Environment, Instant, Interval } from '../core/glossary.js';
import type { LoadedConfig } from '../config/load.js';
import { formatDiagnostic, loadConfigFile } from '../config/load.js';
import type { ProjectedSavings } from '../savings/projection.js';
import { projectSavings } from '../savings/projection.js';
import { storedInventory } from './inventory.js';
import type { CliIo } from './io.js';
import { EXIT } from './io.js';
import { formatTable } from './table.js';

export interface PlanSavingsOptions {
  readonly proposed?: string;
  readonly db: string;
  readonly json?: boolean;
}

export async function planSavings(
  current: LoadedConfig,
  environments: readonly Environment[],
  window: Interval,
  options: PlanSavingsOptions,
  io: CliIo,
): Promise<number> {
  let proposed: LoadedConfig | undefined;
  if (options.proposed !== undefined) {
    const loaded = await loadConfigFile(options.proposed);
    if (!loaded.ok) {
      for (const d of loaded.diagnostics) io.err(formatDiagnostic(d));
      return EXIT.invalidConfig;
    }
    proposed = loaded.config;
  }
  const inventory = await storedInventory(options.db);
  const now = projectSavings(current.fleet, window, environments, inventory ?? new Map());
  const names = new Set(environments.map((e) => e.name));
  const then =
    proposed === undefined
      ? undefined
      : projectSavings(
          proposed.fleet,
          window,
          proposed.fleet.environments.filter((e) => names.has(e.name)),
          inventory ?? new Map(),
        );
  if (options.json === true) {
    io.out(
      JSON.stringify({
        from: iso(window.start),
        to: iso(window.end),
        current: now,
        proposed: then ?? null,
      }),
    );
    return EXIT.ok;
  }
  io.out(projectionText(window, now, then, inventory !== undefined));
  return EXIT.ok;
}

function projectionText(
  window: Interval,
  now: readonly ProjectedSavings[],
  then: readonly ProjectedSavings[] | undefined,
  haveInventory: boolean,
): string {
  const byName = new Map((then ?? []).map((p) => [p.environment, p]));
  const header = ['ENVIRONMENT', 'HOURS OFF', 'RESOURCE HOURS SAVED', 'USD', 'KG CO2E'];
  const rows = now.map((p) => {
    const row = [
      p.environment,
      hours(p.hoursOff),
      hours(p.resourceHoursSaved),
      usd(p.money),
      kg(p.kgCo2e),
    ];
    const other = byName.get(p.environment);
    return other === undefined
      ? row
      : [
          ...row,
          hours(other.hoursOff),
          hours(other.resourceHoursSaved),
          usd(other.money),
          change(p, other),
        ];
  });
  const lines = [
    `projected savings from ${iso(window.start)} to ${iso(window.end)} (USD; carbon is an estimate)`,
    formatTable(
      then === undefined
        ? header
        : [
            ...header,
            'HOURS OFF (PROPOSED)',
            'RESOURCE HOURS (PROPOSED)',
            'USD (PROPOSED)',
            'CHANGE',
          ],
      rows,
    ),
  ];
  if (then !== undefined)
    for (const p of now) {
      const other = byName.get(p.environment);
      if (other === undefined) lines.push(`${p.environment}: not in the proposed config`);
      else if (other.resourceHoursSaved !== p.resourceHoursSaved || other.hoursOff !== p.hoursOff)
        lines.push(
          `${p.environment}: the proposed config saves ${change(p, other)} (${measure(p)} ${hours(measureOf(p))} -> ${hours(measureOf(other))})`,
        );
    }
  if (!haveInventory)
    lines.push(
      'no inventory in the store (start lightsout serve, or pass --db): hours are per environment; resources, money and carbon need it',
    );
  const unpriced = now.reduce((n, p) => n + p.unpriced, 0);
  if (unpriced > 0)
    lines.push(
      `${unpriced} resources have no price (counted in hours only); set environments.NAME.savings`,
    );
  return lines.join('\n');
}

/** Resource hours when there is an inventory, else the environment's hours off. */
function measureOf(p: ProjectedSavings): number {
  return p.resources > 0 ? p.resourceHoursSaved : p.hoursOff;
}

function measure(p: ProjectedSavings): string {
  return p.resources > 0 ? 'resource hours saved' : 'hours off';
}

/** "9 % more", "4 % less", "the same". */
function change(now: ProjectedSavings, then: ProjectedSavings): string {
  const a = measureOf(now);
  const b = measureOf(then);
  if (a === b) return 'the same';
  if (a === 0) return `${hours(b)} h more`;
  const percent = Math.round(((b - a) / a) * 100);
  return percent >= 0 ? `${percent} % more` : `${-percent} % less`;
}

const hours = (h: number) => h.toFixed(1);
const usd = (v: number) => v.toFixed(2);
const kg = (v: number) => v.toFixed(3);
const iso = (t: Instant) => new Date(t).toISOString();
