/**
 * One run: `GET /api/v1/runs/:id` (the run with its steps, who cancelled it, and
 * the "keep running" choices of a stop in its grace) and `GET /api/v1/runs/:id/stream`,
 * the same JSON as server-sent events at connect and at every change until the run
 * ends (a final `end` event, then the stream closes).
 *
 * Changes are seen in the store, not only in this process: any replica may act on
 * the run, so each stream reads the run's row every `pollMs` (one lookup by key), and
 * its steps only while it acts (steps change only then). This process's own changes
 * (a cancel, a run created or ended) wake the streams at once. Streams are bounded
 * per process, live at most `maxAgeMs` (the browser reconnects, and the caller is
 * authenticated again: a revoked token stops streaming within that time), and all
 * close when the server closes, so a graceful stop never waits on one.
 *
 * SSE framing, heartbeats and `Last-Event-ID` come from @fastify/sse (fastify's own
 * plugin). An event's id is a digest of what it says: a client that reconnects,
 * to this replica or another, with the id of what it last saw gets nothing again
 * until something changed.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { fastifySSE } from '@fastify/sse';
import type { Run } from '../store/queries/runs.js';
import { OPEN_STATUSES } from '../store/queries/runs.js';
import { keepRunningChoices } from '../switches/action-links.js';
import type { Principal } from './auth.js';
import { canSee } from './auth.js';
import type { ApiContext, ApiDeps } from './context.js';
import { iso } from './context.js';
import { runJson } from './control.js';
import { Problem } from './problems.js';

/**
 * `pollMs`: how often a stream reads its run from the store (default 1 s);
 * `maxStreams`: open streams this process serves at most, more answer 503
 * `too-many-streams` (default 200); `heartbeatMs`: a comment line this often keeps
 * proxies from closing a quiet stream (default 15 s); `maxAgeMs`: a stream closes
 * after this long, and the browser reconnects with Last-Event-ID (default 5 min).
 */
export type RunStreamOptions = NonNullable<ApiDeps['runStreams']>;

/** Open streams one caller may hold: a few tabs each, so one caller cannot take them all. */
const MAX_STREAMS_PER_CALLER = 10;

const DEFAULTS = {
  pollMs: 1_000,
  maxStreams: 200,
  heartbeatMs: 15_000,
  maxAgeMs: 5 * 60_000,
} satisfies Required<RunStreamOptions>;

/** How long a closing server waits at most for its streams' answers to end. */
const CLOSE_WAIT_MS = 1_000;

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms).unref();
  });

/** What a browser waits before reconnecting a stream that closed without its end. */
const RETRY_MS = 2_000;

type IdParams = { Params: { id: string } };

export function registerRunRoutes(
  http: FastifyInstance,
  context: ApiContext,
  options: RunStreamOptions = {},
): void {
  const { deps } = context;
  const settings = { ...DEFAULTS, ...options };
  const streams = new Set<OpenStream>();
  // This process's changes wake every stream at once; others are seen by polling.
  const unsubscribe = deps.engine.onChange(() => {
    for (const stream of streams) stream.wake();
  });
  // Before the server waits for its connections to end: end the streams, so it need not.
  // Awaited until each answer is over, so the server finds their connections idle and
  // closes them (else it would wait for the clients to let go of them).
  http.addHook('preClose', async () => {
    unsubscribe();
    const ending = [...streams].map((stream) => stream.ended);
    for (const stream of streams) stream.stop();
    await Promise.race([Promise.all(ending), sleep(CLOSE_WAIT_MS)]);
  });

  const visibleRun = async (principal: Principal, id: string): Promise<Run> => {
    const run = await deps.store.getRun(id);
    if (run === undefined || !canSee(principal, context.byName.get(run.environment)?.team))
      throw new Problem(404, 'unknown-run', 'Unknown run', `there is no run "${id}"`);
    return run;
  };

  /** Who cancelled a cancelled run, when, and until when it stays on; read once it is cancelled. */
  const cancellation = async (run: Run) => {
    if (run.status !== 'cancelled') return null;
    const { events } = await deps.store.queryEvents(
      { runId: run.id, kind: 'run.cancelled' },
      { limit: 1 },
    );
    const event = events[0];
    if (event === undefined) return null;
    const until = event.payload.holdUntil;
    return {
      by: event.actor,
      at: iso(event.at),
      ...(typeof until === 'string' ? { keepOnUntil: until } : {}),
    };
  };

  /** The run as GET /api/v1/runs/:id answers it, and the digest of what can change in it. */
  const describe = async (run: Run) => {
    const [steps, cancelled] = await Promise.all([deps.store.listSteps(run.id), cancellation(run)]);
    const environment = context.byName.get(run.environment);
    const stable = {
      ...runJson(run),
      timezone: environment?.timezone ?? 'UTC',
      createdAt: iso(run.created_at),
      summary: run.summary === null ? null : (JSON.parse(run.summary) as unknown),
      cancelled,
      steps: steps.map((s) => ({
        resource: s.resource,
        tier: s.tier,
        action: s.action,
        status: s.status,
        attempts: s.attempts,
        error: s.error,
        startedAt: s.started_at === null ? null : iso(s.started_at),
        finishedAt: s.finished_at === null ? null : iso(s.finished_at),
      })),
    };
    const version = createHash('sha256').update(JSON.stringify(stable)).digest('base64url');
    // The choices a warning's links offer, the same instants; not part of the digest
    // (a waiting stop's "1 h from now" moves with the clock, and is no change of the run).
    const keepRunning =
      run.status === 'grace' && run.direction === 'stop' && environment !== undefined
        ? keepRunningChoices(
            run,
            deps.now(),
            deps.engine.nextScheduledStart(run.environment, run.act_at),
          ).map((c) => ({ ...c, until: iso(c.until) }))
        : [];
    return { detail: { ...stable, keepRunning }, version: version.slice(0, 22) };
  };

  http.get<IdParams>('/api/v1/runs/:id', async (request) => {
    const principal = await context.caller(request);
    return (await describe(await visibleRun(principal, request.params.id))).detail;
  });

  void http.register(async (app) => {
    await app.register(fastifySSE, { heartbeatInterval: settings.heartbeatMs });
    // 'manual': the stream needs no Accept header, and a refusal before the first
    // event is an ordinary problem+json answer.
    app.get<IdParams>('/api/v1/runs/:id/stream', { sse: 'manual' }, async (request, reply) => {
      const principal = await context.caller(request);
      let run: Run | undefined = await visibleRun(principal, request.params.id);
      if (streams.size >= settings.maxStreams) {
        void reply.header('retry-after', String(Math.ceil(RETRY_MS / 1000)));
        throw new Problem(
          503,
          'too-many-streams',
          'Too many streams',
          `this process serves ${settings.maxStreams} run streams already; read GET /api/v1/runs/${run.id} instead, or retry later`,
        );
      }
      const own = [...streams].filter((s) => s.owner === principal.id).length;
      if (own >= MAX_STREAMS_PER_CALLER) {
        void reply.header('retry-after', String(Math.ceil(RETRY_MS / 1000)));
        throw new Problem(
          429,
          'too-many-streams',
          'Too many streams',
          `${principal.name} has ${MAX_STREAMS_PER_CALLER} run streams open already; close one (a tab), or read GET /api/v1/runs/${run.id}`,
        );
      }
      const stream = new OpenStream(settings.maxAgeMs, principal.id);
      streams.add(stream);
      reply.sse.onClose(() => {
        stream.stop();
      });
      // Answered at once, even when a reconnecting client has nothing new to be told yet.
      // (Node holds written headers back until the first byte of the body: flushed now.)
      reply.sse.sendHeaders();
      reply.raw.flushHeaders();
      let last = reply.sse.lastEventId;
      let first = true;
      try {
        while (run !== undefined && stream.isOpen() && reply.sse.isConnected) {
          const ended = !OPEN_STATUSES.includes(run.status);
          // Steps change only while the run acts: a run in its grace is read by its row alone.
          if (ended || first || run.status === 'acting' || run.updated_at !== stream.updatedAt) {
            const { detail, version } = await describe(run);
            stream.updatedAt = run.updated_at;
            if (ended) {
              await reply.sse.send({ id: version, event: 'end', data: detail });
              break;
            }
            if (version !== last) {
              await reply.sse.send({
                id: version,
                event: 'run',
                data: detail,
                ...(first ? { retry: RETRY_MS } : {}),
              });
              last = version;
            }
          }
          first = false;
          await stream.sleep(settings.pollMs);
          if (!stream.isOpen()) break;
          run = await deps.store.getRun(run.id);
        }
      } finally {
        stream.stop();
        streams.delete(stream);
        // Ends the answer now (not after the handler returns), and says when it is over.
        reply.sse.close();
        if (reply.raw.writableFinished || reply.raw.destroyed) stream.markEnded();
        else {
          reply.raw.once('finish', () => {
            setImmediate(() => {
              stream.markEnded();
            });
          });
          reply.raw.once('close', () => {
            stream.markEnded();
          });
        }
      }
    });
  });
}

/** One open stream: its sleep between reads, woken by a change or ended by a stop. */
class OpenStream {
  private open = true;
  /** Resolves when its answer is over. */
  readonly ended: Promise<void>;
  markEnded: () => void = () => undefined;
  /** The run row's `updated_at` when it was last described. */
  updatedAt = -1;
  private interrupt: (() => void) | undefined;
  private readonly closesAt: number;

  constructor(
    maxAgeMs: number,
    /** The caller's id: each caller holds a few streams at most. */
    readonly owner: string,
  ) {
    this.closesAt = Date.now() + maxAgeMs;
    this.ended = new Promise((resolve) => {
      this.markEnded = resolve;
    });
  }

  sleep(ms: number): Promise<void> {
    const left = this.closesAt - Date.now();
    if (left <= 0) {
      this.stop();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.interrupt = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, left));
      this.interrupt = done;
    });
  }

  isOpen(): boolean {
    return this.open;
  }

  wake(): void {
    this.interrupt?.();
  }

  stop(): void {
    this.open = false;
    this.wake();
  }
}
