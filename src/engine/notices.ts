/**
 * Delivers the notices runs owe (stop warnings, run reports, failure alerts). Each was recorded in
 * the transaction that made it due; whichever replica finds it due claims one
 * attempt by compare-and-set, sends it, and marks it sent. A failed send is tried
 * again with backoff, up to a limit; a warning whose stop already acted (or was
 * called off) is no longer sent.
 */
import type { Environment, Instant } from '../core/glossary.js';
import type { NewNotice, StoredNotice } from '../store/queries/notices.js';
import type { Store } from '../store/store.js';
import type { EngineContext } from './context.js';
import type { Notice } from './ports.js';
import { messageOf } from './executor.js';

export const NOTICE_ATTEMPTS = 5;
/** One send may take this long; a channel that hangs longer counts as a failed attempt. */
const SEND_TIMEOUT_MS = 30_000;

/**
 * Wait before attempt n+1: 10 s, doubling. A claimed attempt holds the notice at
 * least as long as a send may take, so no other pass sends it meanwhile.
 */
function backoffMs(attempts: number): number {
  return Math.max(SEND_TIMEOUT_MS + 5_000, 10_000 * 2 ** Math.max(0, attempts - 1));
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms / 1000} s`));
    }, ms);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => {
    clearTimeout(timer);
  });
}

/**
 * Records a notice once per channel of its environment, and once for the log:
 * each delivery is claimed, retried and settled on its own, so a retry never
 * sends twice to a channel that took it. A run report to a channel with a digest
 * period waits out the period, gathered with the others (deliverDigest).
 */
export async function addNotices(
  tx: Store,
  environment: Environment | undefined,
  notice: Omit<NewNotice, 'channel' | 'dueAt'>,
  now: Instant,
  digests?: ReadonlyMap<string, number>,
): Promise<void> {
  for (const channel of ['', ...(environment?.notify ?? [])]) {
    const period = notice.kind === 'run-summary' ? digests?.get(channel) : undefined;
    await tx.addNotice(
      { ...notice, channel, ...(period === undefined ? {} : { dueAt: now + period }) },
      now,
    );
  }
}

/** The channel a notice went to, when not the log ('' in the store). */
function channelOf(notice: StoredNotice): { channel?: string } {
  return notice.channel === '' ? {} : { channel: notice.channel };
}

/** A channel's refusal that trying again cannot mend (a revoked token, a webhook that is gone). */
function isPermanent(error: unknown): boolean {
  return (error as { permanent?: unknown } | undefined)?.permanent === true;
}

export async function deliverNotices(ctx: EngineContext, now: Instant): Promise<void> {
  const digested = new Set<string>();
  for (const notice of await ctx.store.dueNotices(now)) {
    if (ctx.signal.aborted) return;
    if (notice.kind === 'run-summary' && ctx.digests.has(notice.channel)) {
      // One digest per channel and pass gathers every report of the channel at once.
      if (!digested.has(notice.channel)) await deliverDigest(ctx, notice.channel);
      digested.add(notice.channel);
      continue;
    }
    await deliver(ctx, notice);
  }
}

/** Another replica claimed one of the digest's reports first: this one sends nothing. */
class ClaimedElsewhere extends Error {
  override readonly name = 'ClaimedElsewhere';
}

/**
 * A digest: every pending run report of `channel`, claimed together in one
 * transaction (each by its compare-and-set, so two replicas never both win),
 * sent as one message listing each run's one line (failures first), and settled
 * together. A failed digest is tried again with backoff like any notice; reports
 * recorded meanwhile join it.
 */
async function deliverDigest(ctx: EngineContext, channel: string): Promise<void> {
  const { store, clock } = ctx;
  const reports = await store.pendingReports(channel, clock.now());
  if (reports.length === 0) return;
  const attempt = Math.max(...reports.map((r) => r.attempts)) + 1;
  const retryAt = clock.now() + backoffMs(attempt);
  const claimed = await store
    .atomically(async (tx) => {
      for (const report of reports)
        if (!(await tx.claimNotice(report, retryAt))) throw new ClaimedElsewhere();
      return true;
    })
    .catch((error: unknown) => {
      if (error instanceof ClaimedElsewhere) return false;
      throw error;
    });
  if (!claimed) return;
  const digest = digestOf(reports, channel, clock.now());
  const events = (kind: string, payload: Record<string, unknown>) =>
    reports.map((r) => ({
      at: clock.now(),
      actor: 'lightsout',
      kind,
      environment: r.environment,
      runId: r.run_id,
      payload: { notice: r.kind, channel, digest: reports.length, ...payload },
    }));
  try {
    await withTimeout(ctx.notifier.send(digest), SEND_TIMEOUT_MS);
    await store.atomically(async (tx) => {
      for (const r of reports) await tx.settleNotice(r.id, r.attempts + 1, 'sent', clock.now());
      await tx.appendEvents(events('notice.sent', { attempt }));
    });
  } catch (error) {
    const permanent = isPermanent(error);
    await store.atomically(async (tx) => {
      for (const r of reports) {
        const last = r.attempts + 1 >= NOTICE_ATTEMPTS || permanent;
        await tx.settleNotice(
          r.id,
          r.attempts + 1,
          last ? 'failed' : 'pending',
          clock.now(),
          messageOf(error),
        );
      }
      await tx.appendEvents(events('notice.failed', { attempt, error: messageOf(error) }));
    });
    ctx.log.warn(
      { channel, reports: reports.length, attempt, error: messageOf(error) },
      'a digest of run reports could not be sent; retrying',
    );
  }
}

/** The digest message: one line per run, failed runs first, oldest first within each. */
function digestOf(reports: readonly StoredNotice[], channel: string, now: Instant): Notice {
  const runs = reports.map((r) => {
    const body = JSON.parse(r.body) as { text: string; details?: { outcome?: unknown } };
    return {
      runId: r.run_id,
      environment: r.environment,
      outcome: typeof body.details?.outcome === 'string' ? body.details.outcome : 'unknown',
      text: body.text,
    };
  });
  const failed = runs.filter((r) => r.outcome === 'failed');
  const ordered = [...failed, ...runs.filter((r) => r.outcome !== 'failed')];
  const environments = [...new Set(reports.map((r) => r.environment))];
  const teams = [...new Set(reports.map((r) => r.team))];
  const n = runs.length;
  return {
    kind: 'run-digest',
    environment: environments.join(', '),
    team: teams.length === 1 && teams[0] !== null ? teams[0] : undefined,
    runId: ordered[0]!.runId,
    text: `${n} ${n === 1 ? 'run' : 'runs'} ended, ${failed.length} failed`,
    at: now,
    details: { runs: ordered, count: n, failed: failed.length },
    channel,
  };
}

async function deliver(ctx: EngineContext, notice: StoredNotice): Promise<void> {
  const { store, clock } = ctx;
  if (notice.kind === 'stop-warning') {
    const run = await store.getRun(notice.run_id);
    if (run?.status !== 'grace') {
      await store.settleNotice(
        notice.id,
        notice.attempts,
        'failed',
        clock.now(),
        'the run no longer waits in grace',
      );
      return;
    }
  }
  const attempt = notice.attempts + 1;
  if (!(await store.claimNotice(notice, clock.now() + backoffMs(attempt)))) return;
  // A summary keeps its figures under `details`; a warning keeps its fields beside its text.
  const { text, details, ...fields } = JSON.parse(notice.body) as {
    text: string;
    details?: Record<string, unknown>;
  } & Record<string, unknown>;
  const body = { text, details: { ...fields, ...details } };
  const event = {
    actor: 'lightsout',
    environment: notice.environment,
    runId: notice.run_id,
  };
  try {
    await withTimeout(
      ctx.notifier.send({
        kind: notice.kind,
        environment: notice.environment,
        team: notice.team ?? undefined,
        runId: notice.run_id,
        text: body.text,
        at: clock.now(),
        details: body.details,
        ...channelOf(notice),
      }),
      SEND_TIMEOUT_MS,
    );
    await store.settleNotice(notice.id, attempt, 'sent', clock.now());
    await store.appendEvents([
      {
        ...event,
        at: clock.now(),
        kind: 'notice.sent',
        payload: { notice: notice.kind, ...channelOf(notice), attempt },
      },
    ]);
  } catch (error) {
    const last = attempt >= NOTICE_ATTEMPTS || isPermanent(error);
    await store.settleNotice(
      notice.id,
      attempt,
      last ? 'failed' : 'pending',
      clock.now(),
      messageOf(error),
    );
    ctx.log.warn(
      {
        environment: notice.environment,
        run: notice.run_id,
        ...channelOf(notice),
        attempt,
        error: messageOf(error),
      },
      last ? 'a notice could not be sent; giving up' : 'a notice could not be sent; retrying',
    );
    await store.appendEvents([
      {
        ...event,
        at: clock.now(),
        kind: 'notice.failed',
        payload: {
          notice: notice.kind,
          ...channelOf(notice),
          attempt,
          final: last,
          error: messageOf(error),
        },
      },
    ]);
  }
}
