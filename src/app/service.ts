/**
 * The long-running process, wired in one place: config, store, providers,
 * notifier, engine and the HTTP endpoints. `serve` and `demo` both start it.
 */
import { hostname } from 'node:os';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { NotifierDocument } from '../config/schema.js';
import { API_SERVER_OPTIONS, serveApi } from '../api/api.js';
import type { ApiDeps } from '../api/context.js';
import { oidcVerifier } from '../api/oidc.js';
import { oidcSignInOf } from '../api/oidc-sign-in.js';
import { WebSessions } from '../api/session.js';
import { Engine } from '../engine/engine.js';
import { watchChanges } from './changes.js';
import { backoffMs, pause, StoreFaultLog } from './store-faults.js';
import type { Clock, Provider } from '../engine/ports.js';
import { channelsOf } from '../notify/channels.js';
import { destinationOf, roleSessions } from '../forward/destinations.js';
import { Forwarder } from '../forward/forwarder.js';
import { startForwarding } from '../forward/loop.js';
import { startRetention } from './retention.js';
import type { Forwarding } from '../forward/loop.js';
import { slackAppOf } from '../switches/slack-app.js';
import { resolveHooks } from '../switches/hooks.js';
import { ChannelNotifier } from '../notify/router.js';
import { ActionLinks } from '../switches/action-links.js';
import { audiencesOf } from '../switches/audiences.js';
import { LinkingNotifier } from '../switches/linking-notifier.js';
import { AwsLimiter } from '../providers/aws/buckets.js';
import { AwsProvider } from '../providers/aws/aws.js';
import { CommandProvider } from '../providers/command/command.js';
import { SandboxProvider } from '../providers/sandbox/sandbox.js';
import { storeFaultOf } from '../store/faults.js';
import type { Store } from '../store/store.js';
import { openStore, READINESS_TIMEOUT_MS } from '../store/store.js';
import type { ClockSource } from './stored-clock.js';

/** Changes that come within this of each other share one reconciler pass. */
const COALESCE_MS = 100;

/** What the service reads from a loaded config. */
export type ServiceConfig = Pick<LoadedConfig, 'fleet' | 'document'>;

export interface ServiceOptions {
  readonly config: ServiceConfig;
  readonly db: string;
  /** A clock, or where to get one from the store and leave it at the stop (a demo's scaled clock). */
  readonly clock: Clock | ClockSource;
  readonly log: Logger;
  readonly port: number;
  readonly host: string;
  /**
   * Name in run leases; default host:pid, unique per process. A stable id lets a
   * restarted process resume its runs at once instead of after the lease (60 s).
   */
  readonly replicaId?: string;
  readonly safetyTickMs?: number;
  readonly pollMs?: number;
  /** Sandbox settle delays are multiplied by this (tests and benchmarks use small values). */
  readonly settleScale?: number;
  /** API requests per minute per caller (a token, an OIDC subject, or an address without a valid one). */
  readonly rateLimitPerMinute?: number;
  /** How often event forwarding looks for events nobody announced (default 5 s). */
  readonly forwardTickMs?: number;
  /** How often events past their retention are deleted (default hourly). */
  readonly retentionEveryMs?: number;
  /** Run streams' store reads, number, heartbeat and length (see src/api/run-routes.ts). */
  readonly runStreams?: ApiDeps['runStreams'];
  /** Runs after the store is ready and before the first reconciler pass. */
  readonly beforeFirstPass?: (parts: {
    engine: Engine;
    store: Store;
    sandbox: SandboxProvider;
    clock: Clock;
  }) => Promise<void>;
}

export interface Service {
  /** The service's clock (a demo's runs faster, and goes on from the one stored with its data). */
  readonly clock: Clock;
  readonly engine: Engine;
  readonly store: Store;
  readonly sandbox: SandboxProvider;
  readonly http: FastifyInstance;
  /** The dashboard's sessions (the demo makes its one-time sign-in code with them). */
  readonly sessions: WebSessions;
  /** The port the HTTP server listens on (useful with port 0). */
  readonly port: number;
  /** Resolves when the service has stopped. */
  readonly stopped: Promise<void>;
  /** Graceful stop: the loop ends, runs stop at a safe point, the store closes. */
  stop(): Promise<void>;
}

/** Another process listens on the port: a fact about the machine, not retried. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    readonly host: string,
    options?: ErrorOptions,
  ) {
    super(`port ${port} is in use on ${host}`, options);
  }
}

/** The warnings' action links, when the config says where people reach this service. */
function linksOf(
  config: ServiceConfig,
  store: Store,
  clock: Clock,
  engine: () => Engine,
): ActionLinks | undefined {
  const publicUrl = config.document.public_url;
  if (publicUrl === undefined) return undefined;
  return new ActionLinks({
    store,
    engine,
    environments: new Map(config.fleet.environments.map((e) => [e.name, e])),
    publicUrl: publicUrl.replace(/\/+$/, ''),
    audiences: audiencesOf(config.document.notifiers),
    now: () => clock.now(),
  });
}

export async function startService(options: ServiceOptions): Promise<Service> {
  const { config, log } = options;
  // Before the store opens: a secret that cannot be read stops the start with one line.
  const slackApp = config.document.switches.slack;
  const channels = channelsOf(config.document.notifiers, undefined, {
    slackInteractive: slackApp !== undefined,
  });
  const slack =
    slackApp === undefined
      ? undefined
      : slackAppOf(slackApp, {
          log: (fields, message) => {
            log.warn(fields, message);
          },
        });
  const hooks = resolveHooks(config.document.switches.hooks);
  const store = await openStore(options.db);
  log.info({ store: store.connection.description }, 'store ready');
  const faults = new StoreFaultLog(log);
  /** Set once the reconciler loop runs: ends its wait (a backoff after a store fault, say). */
  let wakeLoop: () => void = () => undefined;
  const source = 'open' in options.clock ? options.clock : undefined;
  const clock = 'open' in options.clock ? await options.clock.open(store) : options.clock;
  /**
   * A start that fails before the loop runs closes what it opened, and stores the
   * clock as stopped, so a demo's time stands still until a start succeeds.
   */
  const abandonStart = async (http?: FastifyInstance) => {
    await http?.close().catch(() => undefined);
    await source?.close(store).catch(() => undefined);
    await store.close().catch(() => undefined);
  };
  const sandbox = new SandboxProvider(store.db, clock, {
    latencyMs: config.document.sandbox?.latency ?? 0,
    ...(config.document.sandbox?.start_bucket === undefined
      ? {}
      : { startBucket: config.document.sandbox.start_bucket }),
    ...(options.settleScale === undefined ? {} : { settleScale: options.settleScale }),
  });
  try {
    await syncConfig(store, config, clock.now());
    await sandbox.seed(config.document.sandbox?.resources ?? []);
  } catch (error) {
    await abandonStart();
    throw error;
  }
  const providers = new Map<string, Provider>([
    ['sandbox', sandbox],
    ['command', new CommandProvider()],
    [
      'aws',
      new AwsProvider({
        restore: store.restoreData(() => clock.now()),
        // AWS's token buckets, shared through the store by every replica on it.
        limiter: new AwsLimiter(store.buckets(), clock, config.document.aws),
      }),
    ],
  ]);
  const links = linksOf(config, store, clock, () => engine);
  const owner = options.replicaId ?? `${hostname()}:${process.pid}`;
  const channelNotifier = new ChannelNotifier(log, channels);
  const engine: Engine = new Engine({
    store,
    providers,
    clock,
    notifier: links === undefined ? channelNotifier : new LinkingNotifier(channelNotifier, links),
    log,
    schedules: config.fleet.schedules,
    environments: config.fleet.environments,
    owner,
    digests: digestsOf(config.document.notifiers),
    ...(options.safetyTickMs === undefined ? {} : { safetyTickMs: options.safetyTickMs }),
    ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
  });

  const http = Fastify(API_SERVER_OPTIONS);
  const sessions = new WebSessions();
  const oidcSignIn = oidcSignInOf(config.document);
  await serveApi(
    http,
    {
      store,
      engine,
      environments: config.fleet.environments,
      schedules: config.fleet.schedules,
      now: () => clock.now(),
      ...(links === undefined ? {} : { links }),
      hooks: { hooks, log },
      sessions,
      ...(options.runStreams === undefined ? {} : { runStreams: options.runStreams }),
      ...(config.document.api?.oidc === undefined
        ? {}
        : { oidc: oidcVerifier(config.document.api.oidc) }),
      ...(oidcSignIn === undefined ? {} : { oidcSignIn }),
      ...(slack === undefined ? {} : { slack: { ...slack, links } }),
    },
    {
      ...(options.rateLimitPerMinute === undefined
        ? {}
        : { rateLimitPerMinute: options.rateLimitPerMinute }),
      logError: (error) => {
        log.error({ error: error instanceof Error ? error.message : String(error) }, 'API error');
      },
    },
  );
  http.get('/healthz', () => ({ status: 'ok' }));
  // Answers within READINESS_TIMEOUT_MS, with the reason when not ready (never the URL).
  http.get('/readyz', async (_, reply) => {
    const readiness = await store.readiness(READINESS_TIMEOUT_MS);
    if (readiness.ready) {
      if (faults.faulty) {
        faults.recovered('readiness');
        wakeLoop(); // it may be waiting out a backoff of up to 30 s
      }
      return reply.code(200).send({ status: 'ready' });
    }
    if (readiness.fault !== undefined) faults.failed(readiness.fault, 'readiness');
    return reply.code(503).send({ status: 'not ready', reason: readiness.reason });
  });
  try {
    await http.listen({ port: options.port, host: options.host });
  } catch (error) {
    // Nothing runs yet but the store: close it (and the server's hooks) before saying why.
    await abandonStart(http);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new PortInUseError(options.port, options.host, { cause: error });
    throw error;
  }
  const address = http.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  log.info(
    { port, host: options.host, environments: config.fleet.environments.length },
    'lightsout is serving',
  );

  try {
    await engine.resumeClock();
    await options.beforeFirstPass?.({ engine, store, sandbox, clock });
  } catch (error) {
    // The store failed before the loop began: close what runs, so the process can exit and say why.
    await abandonStart(http);
    throw error;
  }
  const forwarding = forwardingOf(config, store, log, owner, options.forwardTickMs);
  const retention =
    config.document.retention === 'forever'
      ? undefined
      : startRetention(
          store,
          () => clock.now(),
          config.document.retention,
          log,
          options.retentionEveryMs,
        );
  const state = { stopping: false, changed: false };
  /** Read through a function: both flags change while the loop awaits. */
  const isSet = (flag: keyof typeof state) => state[flag];
  /** Wakes the loop from its sleep: a change here, on another replica, or a stop. */
  let wake = new AbortController();
  const poke = () => {
    state.changed = true;
    wake.abort();
    forwarding?.wake();
  };
  wakeLoop = poke;
  const unsubscribe = engine.onChange(poke);
  const stopWatching = await watchChanges(store, log, poke, faults);
  const loop = (async () => {
    /** Passes failed in a row: the next retry waits backoffMs(failures) of real time. */
    let failures = 0;
    while (!state.stopping) {
      state.changed = false;
      let next: number;
      try {
        // A write fault is over only when a write commits: probed before a pass relies on it.
        if (store.writeFault !== undefined) await store.probeWrite();
        next = await engine.tick();
        failures = 0;
        faults.recovered('reconciler');
      } catch (error) {
        failures += 1;
        const fault = storeFaultOf(error);
        if (fault !== undefined) faults.failed(fault, 'reconciler');
        else
          log.error(
            { error: error instanceof Error ? error.message : String(error) },
            'reconciler pass failed; retrying',
          );
        if (isSet('stopping')) break;
        // Woken early by a change (the change watcher reconnected) or a stop.
        wake = new AbortController();
        await pause(backoffMs(failures), wake.signal);
        continue;
      }
      if (isSet('stopping')) break;
      // A change during the pass means another pass soon: after a moment, so a wave of
      // changes (runs ending together, every replica's NOTIFY) makes a few passes, not one each.
      if (isSet('changed')) {
        await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
        continue;
      }
      wake = new AbortController();
      await clock.sleep(Math.max(0, next - clock.now()), wake.signal);
    }
  })();

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      state.stopping = true;
      unsubscribe();
      wake.abort();
      // No queued run starts once the engine is shutting down; acting ones stop at a safe point.
      const shutdown = engine.shutdown();
      await loop;
      await shutdown;
      // Its cursor is in the store: what is not forwarded yet goes at the next start.
      await forwarding?.stop();
      await retention?.stop();
      await stopWatching();
      await http.close();
      // Not stored, the clock just keeps running while the process is down (as after a crash).
      await source?.close(store).catch((error: unknown) => {
        log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'clock not stored',
        );
      });
      await store.close();
      log.info('lightsout stopped');
    })();
    return stopped;
  };
  return {
    clock,
    engine,
    store,
    sandbox,
    http,
    sessions,
    port,
    get stopped() {
      return stopped ?? new Promise<void>(() => undefined);
    },
    stop,
  };
}

/** Live forwarding of events to the config's `forward` destinations, if any. */
function forwardingOf(
  config: ServiceConfig,
  store: Store,
  log: Logger,
  owner: string,
  tickMs: number | undefined,
): Forwarding | undefined {
  const destinations = config.document.forward;
  if (destinations.length === 0) return undefined;
  const sessions = roleSessions();
  const forwarders = destinations.map(
    (f) =>
      new Forwarder({
        store,
        destination: destinationOf(f, sessions),
        kinds: f.kinds,
        owner,
        now: () => Date.now(),
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      }),
  );
  return startForwarding(forwarders, log, tickMs);
}

/** Config-file objects into the store; API-made ones stay. */
export async function syncConfig(store: Store, config: ServiceConfig, now: number): Promise<void> {
  await store.syncConfig(
    {
      environments: config.fleet.environments.map((e) => ({
        name: e.name,
        team: e.team ?? null,
        timezone: e.timezone,
        schedule: e.schedule ?? null,
        definition: e,
      })),
      reservations: config.fleet.reservations,
      holds: config.fleet.holds,
    },
    now,
  );
}

/** Notifiers that gather run reports: their `digest` period, by name. */
function digestsOf(notifiers: Readonly<Record<string, NotifierDocument>>): Map<string, number> {
  return new Map(
    Object.entries(notifiers).flatMap(([name, n]) =>
      n.digest === undefined ? [] : [[name, n.digest] as const],
    ),
  );
}
