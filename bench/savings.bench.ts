/**
 * Savings (issue 14): 10,000 resources in 1,000 environments over one year of
 * office hours (stopped every weekday evening, started every weekday morning,
 * 521,000 `run.finished` events naming 10 resources each), recorded through the
 * store so the power ledger is kept as the engine keeps it. Then the year's report,
 * in total, by month and by day. Target: under 2 s.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from '../src/core/glossary.js';
import type { EventInput } from '../src/store/queries/events.js';
import { savingsReport } from '../src/savings/report.js';
import type { SavingsPeriod } from '../src/core/savings.js';
import { openStore } from '../src/store/store.js';

const ENVIRONMENTS = 1_000;
const PER_ENVIRONMENT = 10;
const YEAR = { start: Date.UTC(2025, 0, 1), end: Date.UTC(2026, 0, 1) };
const HOUR = 3_600_000;

function environments(): Environment[] {
  return Array.from({ length: ENVIRONMENTS }, (_, e) => ({
    name: `env-${e}`,
    timezone: e % 2 === 0 ? 'Europe/Paris' : 'America/New_York',
    graceMs: 0,
    tiers: [],
  }));
}

/** Each weekday: a stop at 19:00 and a start at 07:00 the next weekday (UTC, near enough). */
function* yearOfRuns(): Generator<EventInput[]> {
  for (let day = YEAR.start; day < YEAR.end; day += 24 * HOUR) {
    const weekday = new Date(day).getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    const batch: EventInput[] = [];
    for (let e = 0; e < ENVIRONMENTS; e++) {
      const resources = Array.from({ length: PER_ENVIRONMENT }, (_, r) => ({
        resource: `sandbox:ec2:env-${e}-${r}`,
        status: 'done',
      }));
      const event = (at: number, direction: string): EventInput => ({
        at,
        actor: 'lightsout',
        kind: 'run.finished',
        environment: `env-${e}`,
        payload: { direction, outcome: 'succeeded', resources },
      });
      batch.push(event(day + 7 * HOUR, 'start'), event(day + 19 * HOUR, 'stop'));
    }
    yield batch;
  }
}

export async function savingsBenchmarks(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-bench-savings-'));
  const file = join(dir, 'bench.db');
  const store = await openStore(`sqlite:${file}`);
  let events = 0;
  const recording = performance.now();
  for (const day of yearOfRuns()) {
    await store.appendEvents(day);
    events += day.length;
  }
  const recordMs = performance.now() - recording;
  const input = { window: YEAR, environments: environments(), schedules: new Map() };
  const timed = async (by?: SavingsPeriod) => {
    const started = performance.now();
    const report = await savingsReport(store, { ...input, by });
    return { ms: performance.now() - started, hours: report.totals.hoursSaved };
  };
  await timed(); // warm the page cache as a running service would have it
  const total = await timed();
  const monthly = await timed('month');
  const daily = await timed('day');
  const rss = process.memoryUsage().rss / 2 ** 20;
  await store.close();
  const rows = [
    `| report for the year, in total | ${total.ms.toFixed(0)} ms |`,
    `| by month | ${monthly.ms.toFixed(0)} ms |`,
    `| by day | ${daily.ms.toFixed(0)} ms |`,
  ];
  return [
    '## Savings (issue 14): 10,000 resources over a year, SQLite store',
    '',
    `${ENVIRONMENTS.toLocaleString('en')} environments × ${PER_ENVIRONMENT} resources, office hours every weekday of 2025: ${events.toLocaleString('en')} \`run.finished\` events, recorded a day at a time through the store (ledger kept in the same transaction) in ${(recordMs / 1000).toFixed(0)} s; store ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB. ${total.hours.toLocaleString('en', { maximumFractionDigits: 0 })} hours saved in all. Target: under 2 s.`,
    '',
    '| savings report (`savingsReport`, as `lightsout savings` and the API) | time |',
    '|---|---|',
    ...rows,
    '',
    `Peak RSS of the benchmark process: ${rss.toFixed(0)} MiB.`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`)
  process.stdout.write(`${(await savingsBenchmarks()).join('\n')}\n`);
