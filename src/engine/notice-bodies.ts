/**
 * What each notice says, written once when the notice is recorded (channels only
 * lay it out, see notify/render.ts): the shutdown warning (when, in the
 * environment's zone and UTC; how many resources of which kinds; why), the run
 * report (per-resource outcome, durations, the provider's reasons; failures first,
 * at most REPORT_LIMIT rows) and the failure alerts. No secret is in any of them:
 * only names, states, counts and the reasons steps recorded.
 */
import type { Environment, Instant } from '../core/glossary.js';
import { countKinds, kindsText, whyText } from '../core/notice-words.js';
import type { PlannedCause } from '../core/notice-words.js';
import { durationText, whenText } from '../core/time-text.js';
import type { Run } from '../store/queries/runs.js';
import type { Store } from '../store/store.js';
import { iso } from './context.js';
import type { RunSummary, StepSummary } from './executor.js';

/** A report lists at most this many resources; the rest are counted and one request away. */
export const REPORT_LIMIT = 20;

/** How to cancel a stop without links: the CLI and the API. */
export function cancelHint(runId: string): { cli: string; api: string } {
  return {
    cli: `lightsout cancel ${runId} --config FILE`,
    api: `POST /api/v1/runs/${runId}/cancel`,
  };
}

/** Where to see every resource of a run when its report lists only some. */
export function seeAllHint(run: Pick<Run, 'id' | 'environment'>): string {
  return `GET /api/v1/runs/${run.id}, or lightsout events --env ${run.environment} --kind run.finished --config FILE`;
}

function scopeOf(run: Run): string[] | undefined {
  return run.scope === null ? undefined : (JSON.parse(run.scope) as string[]);
}

/** What a warning needs from the store: the kinds it stops, and whose change of plan it carries out. */
export interface WarningFacts {
  readonly kinds: Record<string, number>;
  readonly planned?: PlannedCause | undefined;
}

/**
 * Read in the transaction that records the warning: kinds from the inventory (what
 * the last discovery found; none before the first run), and the change of plan
 * behind a planned stop: a hold-off in force at its instant, or a reservation or
 * hold-on of the whole environment that ends then.
 */
export async function warningFacts(
  tx: Store,
  environment: Environment,
  run: Run,
): Promise<WarningFacts> {
  const scope = scopeOf(run);
  const inventory = (await tx.listResources(environment.name)).filter(
    (r) => scope === undefined || scope.includes(r.id),
  );
  const kinds = countKinds(inventory.map((r) => r.kind));
  if (run.trigger !== 'schedule' && run.trigger !== 'catch-up') return { kinds };
  const at = run.due_at;
  const holds = await tx.listHolds([environment.name], at - 1);
  const off = holds.find((h) => h.state === 'off' && (h.from ?? -Infinity) <= at && h.until > at);
  if (off !== undefined) return { kinds, planned: { kind: 'hold-off', actor: off.actor } };
  const reservations = await tx.listReservations({
    environments: [environment.name],
    from: at - 1,
    to: at,
  });
  const ended = reservations.find((r) => r.to === at && (r.resource ?? null) === null);
  if (ended !== undefined)
    return { kinds, planned: { kind: 'reservation-end', actor: ended.actor } };
  const kept = holds.find((h) => h.state === 'on' && h.until === at);
  if (kept !== undefined) return { kinds, planned: { kind: 'hold-end', actor: kept.actor } };
  return { kinds };
}

/** The shutdown warning's body; `keepsOnUntil` is what cancelling it does by default. */
export function warningBody(
  environment: Environment,
  run: Run,
  keepsOnUntil: Instant,
  facts: WarningFacts,
  now: Instant,
): Record<string, unknown> {
  const scope = scopeOf(run);
  const what =
    scope === undefined ? environment.name : `${scope.join(', ')} (in ${environment.name})`;
  const when = whenText(run.act_at, environment.timezone, now);
  const why = whyText({
    trigger: run.trigger,
    direction: run.direction,
    actor: run.actor,
    schedule: environment.schedule,
    planned: facts.planned,
  });
  const count = Object.values(facts.kinds).reduce((a, b) => a + b, 0);
  return {
    text: `${what} stops at ${when}: ${kindsText(facts.kinds)}. Why: ${why}.`,
    actAt: iso(run.act_at),
    when,
    timezone: environment.timezone,
    keepsOnUntil: iso(keepsOnUntil),
    keepsOnUntilText: whenText(keepsOnUntil, environment.timezone, now),
    trigger: run.trigger,
    actor: run.actor,
    why,
    kinds: facts.kinds,
    resourceCount: count,
    ...(scope === undefined ? {} : { resources: scope }),
    cancel: cancelHint(run.id),
  };
}

/** One resource's line in a report. */
export interface ReportRow {
  readonly resource: string;
  readonly kind: string;
  readonly tier: string;
  readonly status: string;
  readonly attempts: number;
  readonly durationMs?: number;
  readonly duration?: string;
  /** The provider's reason, as the step recorded it. */
  readonly error?: string;
}

function isFailure(step: Pick<StepSummary, 'status'>): boolean {
  return step.status === 'failed' || step.status === 'skipped';
}

/**
 * Failures first (those that failed, then those skipped because of them: the cause
 * before its consequence), then the rest, each in step order; at most `limit`.
 */
export function reportRows(
  steps: readonly StepSummary[],
  kindOf: (id: string) => string,
  limit = REPORT_LIMIT,
): { rows: ReportRow[]; more: number } {
  const ordered = [
    ...steps.filter((s) => s.status === 'failed'),
    ...steps.filter((s) => s.status === 'skipped'),
    ...steps.filter((s) => !isFailure(s)),
  ];
  const rows = ordered.slice(0, limit).map((s): ReportRow => ({
    resource: s.resource,
    kind: kindOf(s.resource),
    tier: s.tier,
    status: s.status,
    attempts: s.attempts,
    ...(s.durationMs === undefined
      ? {}
      : { durationMs: s.durationMs, duration: durationText(s.durationMs) }),
    ...(s.error === undefined ? {} : { error: s.error }),
  }));
  return { rows, more: ordered.length - rows.length };
}

/** A run ended, with what each resource did; or failed before it could say (`error`). */
export type RunEnd = RunSummary | { readonly outcome: string; readonly error: string };

/** The run report's details (its text is the runner's one line). */
export function reportDetails(
  run: Run,
  end: RunEnd,
  status: string,
  kindOf: (id: string) => string,
  reason?: string,
): Record<string, unknown> {
  const base = {
    outcome: status,
    direction: run.direction,
    trigger: run.trigger,
    actor: run.actor,
    ...(reason === undefined ? {} : { reason }),
  };
  if (!('resources' in end)) return { ...base, counts: {}, total: 0, error: end.error };
  const { rows, more } = reportRows(end.resources, kindOf);
  return {
    ...base,
    counts: end.counts,
    total: end.resources.length,
    failed: end.failures.length,
    durationMs: end.durationMs,
    duration: durationText(end.durationMs),
    resources: rows,
    more,
    ...(more > 0 ? { seeAll: seeAllHint(run) } : {}),
    // What else the run has to say (require_notice: its warning was never delivered).
    ...(end.notes === undefined ? {} : { notes: end.notes }),
  };
}

/** The alert a failed run owes at once: what failed and why, and when lightsout tries again. */
export function failureAlert(
  run: Run,
  end: RunEnd,
  kindOf: (id: string) => string,
  retryAt: Instant | null,
  environment: Environment | undefined,
  now: Instant,
): Record<string, unknown> {
  const zone = environment?.timezone ?? 'UTC';
  const retry =
    retryAt === null ? {} : { retryAt: iso(retryAt), retry: whenText(retryAt, zone, now) };
  if (!('resources' in end))
    return {
      text: `${run.environment}: ${run.direction} failed: ${end.error}`,
      details: { direction: run.direction, error: end.error, ...retry },
    };
  const { rows, more } = reportRows(end.failures, kindOf);
  const what = run.direction === 'start' ? 'on' : run.direction === 'stop' ? 'off' : 'boosted';
  return {
    text: `${run.environment}: ${run.direction} failed: ${end.failures.length} of ${end.resources.length} ${end.resources.length === 1 ? 'resource' : 'resources'} did not reach ${what}`,
    details: {
      direction: run.direction,
      trigger: run.trigger,
      failed: end.failures.length,
      total: end.resources.length,
      resources: rows,
      more,
      ...(more > 0 ? { seeAll: seeAllHint(run) } : {}),
      ...retry,
    },
  };
}

/** The alert for databases found on while their environment should be off. */
export function restartedAlert(
  environment: Environment,
  restarted: readonly { id: string; kind: string }[],
): Record<string, unknown> {
  const kinds = countKinds(restarted.map((r) => r.kind));
  const one = restarted.length === 1;
  return {
    text: `${environment.name}: ${kindsText(kinds)} started by ${one ? 'itself' : 'themselves'} while off (${restarted.map((r) => r.id).join(', ')}); lightsout stops ${one ? 'it' : 'them'} again now`,
    details: {
      resources: restarted.map((r) => r.id),
      kinds,
      // StopDBInstance: "The instance restarts automatically after 7 days" (RDS API Reference).
      why: 'AWS starts a database that has been stopped for 7 days',
    },
  };
}
