/**
 * `require_notice`: a stop does not act before one channel accepted its warning.
 * When its time comes and no channel (the log does not count) has taken the
 * warning yet, the run stays in grace and is looked at again each pass; it acts as
 * soon as a channel accepted, or at `act_at + notice_wait`, when it stops anyway
 * and says so. Decided from the store alone (the run and its notice rows), so
 * whichever replica holds the run decides the same; a cancel during the wait ends
 * the run in grace like any other.
 */
import type { Environment, Instant } from '../core/glossary.js';
import type { EventInput } from '../store/queries/events.js';
import type { StoredNotice } from '../store/queries/notices.js';
import type { Run } from '../store/queries/runs.js';
import type { EngineContext } from './context.js';
import { iso } from './context.js';

export const NOTICE_WAIT_STARTED = 'run.notice-wait';
export const NOTICE_WAIT_ENDED = 'run.notice-wait-ended';

/** What a stop whose time came does about its warning. */
export type NoticeWait =
  /** Nothing to wait for: not required, no warning recorded (a retry), or a channel accepted it in time. */
  | { readonly kind: 'act' }
  /** A channel accepted the warning after the stop's time: it acts now, late. */
  | { readonly kind: 'act-late'; readonly channel: string; readonly waitedMs: number }
  /** No channel accepted it yet: the run stays in grace until then, or `until`. */
  | { readonly kind: 'wait'; readonly until: Instant }
  /** No channel accepted it by the bound: the stop acts anyway. */
  | {
      readonly kind: 'act-undelivered';
      readonly waitedMs: number;
      readonly channels: readonly { channel: string; status: string; attempts: number }[];
    };

/** The decision for a stop in grace whose time has come, from its warning's rows; pure. */
export function noticeWait(
  environment: Environment,
  run: Run,
  notices: readonly StoredNotice[],
  now: Instant,
): NoticeWait {
  const required = environment.requireNotice;
  if (required === undefined || run.direction !== 'stop') return { kind: 'act' };
  const warnings = notices.filter((n) => n.kind === 'stop-warning' && n.channel !== '');
  if (warnings.length === 0) return { kind: 'act' };
  const accepted = warnings
    .filter((n) => n.status === 'sent')
    .sort((a, b) => (a.sent_at ?? 0) - (b.sent_at ?? 0))[0];
  if (accepted !== undefined) {
    const late = (accepted.sent_at ?? now) - run.act_at;
    return late > 0
      ? { kind: 'act-late', channel: accepted.channel, waitedMs: now - run.act_at }
      : { kind: 'act' };
  }
  const until = run.act_at + required.waitMs;
  if (now < until) return { kind: 'wait', until };
  return {
    kind: 'act-undelivered',
    waitedMs: now - run.act_at,
    channels: warnings.map((n) => ({
      channel: n.channel,
      status: n.status,
      attempts: n.attempts,
    })),
  };
}

/** The run's decision now, read from the store. */
export async function checkNoticeWait(
  ctx: EngineContext,
  environment: Environment,
  run: Run,
): Promise<NoticeWait> {
  if (environment.requireNotice === undefined || run.direction !== 'stop') return { kind: 'act' };
  return noticeWait(environment, run, await ctx.store.listNotices(run.id), ctx.clock.now());
}

/**
 * The first time a pass finds the stop waiting: one event and one log line. The
 * caller holds the run's lease, so two replicas do not both record it.
 */
export async function recordWaiting(
  ctx: EngineContext,
  run: Run,
  wait: Extract<NoticeWait, { kind: 'wait' }>,
): Promise<void> {
  const recorded = await ctx.store.queryEvents({ runId: run.id, kind: NOTICE_WAIT_STARTED });
  if (recorded.events.length > 0) return;
  const now = ctx.clock.now();
  await ctx.store.appendEvents([
    {
      at: now,
      actor: 'lightsout',
      kind: NOTICE_WAIT_STARTED,
      environment: run.environment,
      runId: run.id,
      payload: { actAt: iso(run.act_at), until: iso(wait.until) },
    },
  ]);
  ctx.log.warn(
    { environment: run.environment, run: run.id, until: iso(wait.until) },
    'the stop waits: no channel has accepted its warning yet (require_notice)',
  );
}

/** The event recorded with `run.acting` when the stop waited for its warning, if it did. */
export function waitEndedEvent(run: Run, wait: NoticeWait, now: Instant): EventInput[] {
  if (wait.kind === 'act-late')
    return [
      {
        at: now,
        actor: 'lightsout',
        kind: NOTICE_WAIT_ENDED,
        environment: run.environment,
        runId: run.id,
        payload: { delivered: true, channel: wait.channel, waitedMs: wait.waitedMs },
      },
    ];
  if (wait.kind === 'act-undelivered')
    return [
      {
        at: now,
        actor: 'lightsout',
        kind: NOTICE_WAIT_ENDED,
        environment: run.environment,
        runId: run.id,
        payload: {
          delivered: false,
          waitedMs: wait.waitedMs,
          channels: wait.channels,
          reason: 'no channel accepted the warning within notice_wait; stopping anyway',
        },
      },
    ];
  return [];
}

export function logWaitEnded(ctx: EngineContext, run: Run, wait: NoticeWait): void {
  if (wait.kind === 'act-undelivered')
    ctx.log.warn(
      { environment: run.environment, run: run.id, waitedMs: wait.waitedMs },
      'the stop waited notice_wait and no channel accepted its warning; stopping anyway',
    );
  else if (wait.kind === 'act-late')
    ctx.log.info(
      { environment: run.environment, run: run.id, channel: wait.channel, waitedMs: wait.waitedMs },
      'a channel accepted the warning; the stop that waited for it acts now',
    );
}

/**
 * What a run's report adds when its warning reached no channel (require_notice):
 * decided from the notice rows, so also for a run resumed by another replica.
 */
export async function undeliveredNote(
  ctx: EngineContext,
  environment: Environment,
  run: Run,
): Promise<string | undefined> {
  if (environment.requireNotice === undefined || run.direction !== 'stop') return undefined;
  const warnings = (await ctx.store.listNotices(run.id)).filter(
    (n) => n.kind === 'stop-warning' && n.channel !== '',
  );
  if (warnings.length === 0 || warnings.some((n) => n.status === 'sent')) return undefined;
  return 'the warning was never delivered to any channel; stopped at the notice_wait bound';
}

/** Stops of this engine's environments waiting for their warning now (act_at passed, in grace). */
async function waitingRuns(ctx: EngineContext, now: Instant): Promise<Run[]> {
  const requiring = [...ctx.environments.values()].filter((e) => e.requireNotice !== undefined);
  if (requiring.length === 0) return [];
  const names = new Set(requiring.map((e) => e.name));
  return (await ctx.store.openRuns()).filter(
    (r) =>
      names.has(r.environment) && r.status === 'grace' && r.direction === 'stop' && r.act_at <= now,
  );
}

/** Whether a stop waiting for its warning may act now: a channel took it since. */
export async function warningTaken(ctx: EngineContext, now: Instant): Promise<boolean> {
  for (const run of await waitingRuns(ctx, now)) {
    const notices = await ctx.store.listNotices(run.id);
    if (notices.some((n) => n.kind === 'stop-warning' && n.channel !== '' && n.status === 'sent'))
      return true;
  }
  return false;
}

/**
 * The earliest bound of a stop waiting for its warning, after `now`: the pass
 * wakes then (such a run's own act_at is already past, so nextActAt skips it).
 */
export async function nextNoticeWaitEnd(
  ctx: EngineContext,
  now: Instant,
): Promise<Instant | undefined> {
  let next: Instant | undefined;
  for (const run of await waitingRuns(ctx, now)) {
    const waitMs = ctx.environments.get(run.environment)?.requireNotice?.waitMs ?? 0;
    const until = run.act_at + waitMs;
    if (until > now) next = Math.min(next ?? until, until);
  }
  return next;
}
