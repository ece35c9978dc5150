/** How `lightsout plan` prints starts planned ready by their instant (plan-ready-by.ts). */
import { DateTime } from 'luxon';
import type { Environment, Instant } from '../core/glossary.js';
import { durationText } from '../core/time-text.js';
import type { ReadyByReport, ReadyByReports } from './plan-ready-by.js';
import { formatTable } from './table.js';

/** The lines under an environment's transitions; none when its providers do not cost starts. */
export function readyByText(environment: Environment, readyBy: ReadyByReports): string[] {
  if (readyBy.kind === 'none') return [];
  if (readyBy.kind === 'no-inventory')
    return readyBy.environments.includes(environment.name)
      ? [
          '  starts: not sized: no store at --db yet; once lightsout has discovered the resources, large starts begin early enough to be running on time',
        ]
      : [];
  const report = readyBy.reports.get(environment.name);
  if (report === undefined) return [];
  if (report.resources === 0)
    return [
      '  starts: no resources discovered yet (the first run discovers them); until then starts begin at their instant',
    ];
  const zone = environment.timezone;
  const lines = [
    `  starts begin early to be running on time (${report.resources.toLocaleString('en-US')} resources in the inventory):`,
  ];
  if (report.starts.length > 0)
    lines.push(
      formatTable(
        [`RUNNING BY (${zone})`, 'BEGINS', 'WAITING FOR TOKENS', 'COMING UP', 'SHARES TOKENS WITH'],
        report.starts.map((s) => [
          local(s.at, zone),
          local(s.plan.beginAt, zone),
          durationText(s.plan.waitMs),
          durationText(s.plan.settleMs),
          s.sharedWith.length === 0 ? '-' : s.sharedWith.join(', '),
        ]),
        '    ',
      ),
    );
  for (const bucket of bucketsOf(report))
    lines.push(
      `  tokens: ${bucket.tokens.toLocaleString('en-US')} from ${bucket.key} (${bucket.rate.burst.toLocaleString('en-US')} at once, then ${bucket.rate.perSecond} a second)`,
    );
  const stopMs = report.stops[0]?.takesMs;
  if (stopMs !== undefined) lines.push(`  a stop takes about ${durationText(stopMs)}`);
  for (const warning of report.warnings) lines.push(`  warning: ${warning}`);
  return lines;
}

export function readyByJson(report: ReadyByReport): unknown {
  const iso = (t: Instant) => new Date(t).toISOString();
  return {
    resources: report.resources,
    starts: report.starts.map((s) => ({
      runningBy: iso(s.at),
      beginAt: iso(s.plan.beginAt),
      waitMs: Math.round(s.plan.waitMs),
      settleMs: s.plan.settleMs,
      ...(s.plan.bucket === undefined
        ? {}
        : {
            bucket: s.plan.bucket.key,
            tokens: s.plan.bucket.tokens,
            burst: s.plan.bucket.rate.burst,
            perSecond: s.plan.bucket.rate.perSecond,
          }),
      sharedWith: s.sharedWith,
      ...(s.plan.lateUntil === undefined ? {} : { lateUntil: iso(s.plan.lateUntil) }),
    })),
    stops: report.stops.map((s) => ({ at: iso(s.at), takesMs: Math.round(s.takesMs) })),
    warnings: report.warnings,
  };
}

/** The distinct buckets that set the environment's starts' leads. */
function bucketsOf(report: ReadyByReport) {
  const buckets = new Map<string, NonNullable<ReadyByReport['starts'][number]['plan']['bucket']>>();
  for (const s of report.starts)
    if (s.plan.bucket !== undefined) buckets.set(s.plan.bucket.key, s.plan.bucket);
  return [...buckets.values()];
}

function local(t: Instant, zone: string): string {
  return DateTime.fromMillis(t, { zone }).toFormat('ccc yyyy-LL-dd HH:mm');
}
