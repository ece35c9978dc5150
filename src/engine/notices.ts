/**
 * Delivers the notices runs owe (stop warnings, summaries). Each was recorded in
 * the transaction that made it due; whichever replica finds it due claims one
 * attempt by compare-and-set, sends it, and marks it sent. A failed send is tried
 * again with backoff, up to a limit; a warning whose stop already acted (or was
 * called off) is no longer sent.
 */
import type { Environment, Instant } from '../core/glossary.js';
import type { NewNotice, StoredNotice } from '../store/queries/notices.js';
import type { Store } from '../store/store.js';
import type { EngineContext } from './context.js';
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
 * sends twice to a channel that took it.
 */
export async function addNotices(
  tx: Store,
  environment: Environment | undefined,
  notice: Omit<NewNotice, 'channel'>,
  now: Instant,
): Promise<void> {
  for (const channel of ['', ...(environment?.notify ?? [])])
    await tx.addNotice({ ...notice, channel }, now);
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
  for (const notice of await ctx.store.dueNotices(now)) {
    if (ctx.signal.aborted) return;
    await deliver(ctx, notice);
  }
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
