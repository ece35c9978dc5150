import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import type { Environment } from '../core/glossary.js';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import { hashToken, newToken } from '../api/tokens.js';
import { SessionKeyError } from '../api/session.js';
import { createLogger, LogFormatError } from '../app/logger.js';
import { PortInUseError, startService } from '../app/service.js';
import type { Service, ServiceConfig, ServiceOptions } from '../app/service.js';
import { storedScaledClock, wallClock } from '../app/stored-clock.js';
import type { ClockSource } from '../app/stored-clock.js';
import { formatDiagnostic, loadConfigFile } from '../config/load.js';
import { DatabaseUrlError, redact, StoreNotFoundError, StoreOpenError } from '../store/db.js';
import { storeFaultOf } from '../store/faults.js';
import { absoluteDatabaseUrl, commandLine } from './invocation.js';
import { SecretError } from '../notify/secrets.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';
import { seedDemoHistory } from './demo-history.js';

export interface ServeOptions {
  readonly config: string;
  readonly db: string;
  readonly port: string;
  readonly host: string;
  readonly replicaId?: string;
  readonly speed?: string;
  readonly rateLimit?: string;
}

export const DEFAULT_DB = 'sqlite:lightsout.db';

/** `lightsout serve`: the long-running process. Stops gracefully on SIGTERM and SIGINT. */
export async function serveCommand(
  options: ServeOptions,
  io: CliIo,
  log: Logger = newLogger(),
): Promise<number> {
  const config = await loadForService(options.config, io);
  if (config === undefined) return EXIT.invalidConfig;
  const db = checkDatabaseUrl(options.db);
  const speed = parseSpeed(options.speed);
  const service = await start({
    config,
    db,
    clock: serveClock(speed),
    log,
    port: parsePort(options.port),
    host: options.host,
    ...(options.replicaId === undefined ? {} : { replicaId: options.replicaId }),
    ...(options.rateLimit === undefined
      ? {}
      : { rateLimitPerMinute: parseRateLimit(options.rateLimit) }),
  });
  await untilSignal(service, log);
  return EXIT.ok;
}

/**
 * The clock of `serve --speed N`: a scaled clock kept with the store, so commands
 * on it read the same time; at real speed (no --speed, or --speed 1) the wall
 * clock. A stored clock at speed 1 would stand still while the process is down and
 * lag the wall clock by every restart's downtime, for good.
 */
export function serveClock(speed: number): ClockSource {
  return speed === 1 ? wallClock() : storedScaledClock(speed);
}

/** The process's logger; a wrong LIGHTSOUT_LOG_FORMAT is the command line's to fix. */
function newLogger(): Logger {
  try {
    return createLogger();
  } catch (error) {
    if (error instanceof LogFormatError) throw new UsageError(error.message);
    throw error;
  }
}

export interface DemoOptions {
  readonly data: string;
  readonly speed: string;
  readonly port: string;
  readonly host: string;
}

/** The demo config shipped with the package. */
export const DEMO_CONFIG = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));

/** `lightsout demo`: serve the sandbox fleet of examples/demo.yaml, with time running `--speed` times faster. */
export async function demoCommand(
  options: DemoOptions,
  io: CliIo,
  log: Logger = newLogger(),
): Promise<number> {
  const config = await loadForService(DEMO_CONFIG, io);
  if (config === undefined) return EXIT.invalidConfig;
  const speed = parseSpeed(options.speed);
  const data = resolve(options.data);
  makeDataDirectory(data);
  const db = `sqlite:${join(data, 'lightsout.db')}`;
  const service = await start({
    config,
    db,
    // Kept with the demo's data: commands on it and a restart read the demo's time.
    clock: storedScaledClock(speed),
    log,
    port: parsePort(options.port),
    host: options.host,
    beforeFirstPass: (parts) => seedDemoPlans(parts, config.fleet.environments, parts.clock.now()),
  });
  const now = service.clock.now();
  const token = await demoAdminToken(service.store, now);
  const api = `http://${options.host}:${service.port}`;
  const onStore = (command: string) => commandLine([command, '--config', DEMO_CONFIG, '--db', db]);
  // Printed after the startup log lines, so it is what the terminal shows.
  io.out(
    [
      '',
      `lightsout demo: ${config.fleet.environments.length} environments on a simulated fleet, time running ${speed}x (demo time now: ${DateTime.fromMillis(now, { zone: 'UTC' }).toFormat('ccc yyyy-LL-dd HH:mm')} UTC).`,
      // A one-time code, in the fragment: never sent to the server in a URL, nor logged.
      `  dashboard: ${api}/sign-in#code=${service.sessions.oneTimeCode(hashToken(token))}  (one click signs you in as the demo's admin, once)`,
      `  health:  ${api}/healthz`,
      `  API:     curl -H "Authorization: Bearer ${token}" ${api}/api/v1/environments`,
      `  status:  ${onStore('status')}`,
      `  events:  ${onStore('events')}`,
      `  Commands on this store read the demo's clock. Data in ${data}; stop with Ctrl-C.`,
      '',
    ].join('\n'),
  );
  await untilSignal(service, log);
  return EXIT.ok;
}

/**
 * The demo's admin token, for trying the API: a fresh one at each start (the
 * previous one is revoked), since a token is never kept in clear.
 */
async function demoAdminToken(store: Service['store'], now: number): Promise<string> {
  await store.revokeToken('demo-admin', now);
  const { token, hash } = newToken();
  await store.addToken({ id: randomUUID(), name: 'demo-admin', role: 'admin', hash }, now);
  return token;
}

/** A reservation, an overlapping one and a hold, relative to now, made once per data directory. */
async function seedDemoPlans(
  service: Pick<Service, 'engine' | 'store' | 'sandbox'>,
  environments: readonly Environment[],
  now: number,
): Promise<void> {
  const existing = await service.store.queryEvents({ kind: 'demo.seeded' });
  if (existing.events.length > 0) return;
  await seedDemoHistory(service, environments, now);
  const hour = 3_600_000;
  await service.engine.reserve('preview', now + 1 * hour, now + 4 * hour, 'demo', 'design review');
  await service.engine.reserve(
    'preview',
    now + 3 * hour,
    now + 6 * hour,
    'demo',
    'customer call, overlaps the review',
  );
  await service.engine.hold(
    'legacy',
    { state: 'off', until: now + 48 * hour, note: 'migration freeze' },
    'demo',
  );
  await alignDemoFleet(service, environments, now);
  await service.store.appendEvents([{ at: now, actor: 'demo', kind: 'demo.seeded' }]);
}

/**
 * A new demo's simulated fleet starts as its plan wants it now: lightsout adopts
 * environments as it finds them and first acts at their next transition, so a
 * fleet seeded all on would leave, say, the held-off environment running.
 */
async function alignDemoFleet(
  service: Pick<Service, 'engine' | 'sandbox'>,
  environments: readonly Environment[],
  now: number,
): Promise<void> {
  for (const environment of environments) {
    const on = (await service.engine.onWindows(environment.name, now, now + 1)).length > 0;
    for (const tier of environment.tiers ?? [])
      for (const selector of tier.select.filter((s) => s.provider === 'sandbox'))
        for (const resource of await service.sandbox.discover(selector))
          await service.sandbox.setStateByHand(resource.name, on ? 'on' : 'off');
  }
}

/** Starts the service; a busy port is the command line's to fix (exit 2, one line, no stack). */
async function start(options: ServiceOptions): Promise<Service> {
  try {
    return await startService(options);
  } catch (error) {
    if (error instanceof PortInUseError)
      throw new UsageError(`${error.message}; choose another with --port`, { cause: error });
    if (error instanceof SecretError) throw new UsageError(error.message, { cause: error });
    if (error instanceof SessionKeyError) throw new UsageError(error.message, { cause: error });
    if (error instanceof StoreNotFoundError) throw new UsageError(error.message, { cause: error });
    // The store opened, then failed before the first pass (it went away, or its disk filled).
    const fault = storeFaultOf(error);
    if (fault !== undefined && !(error instanceof StoreOpenError))
      throw new StoreOpenError(
        `--db ${redact(options.db)}: ${fault.reason} while starting; fix it, then start again`,
        { cause: error },
      );
    throw error;
  }
}

/**
 * The parts of a config a running service needs. The YAML document with its
 * positions (for error messages) is left behind: for a large fleet it is the
 * biggest thing in memory.
 */
async function loadForService(file: string, io: CliIo): Promise<ServiceConfig | undefined> {
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.err(formatDiagnostic(d));
    return undefined;
  }
  return { fleet: loaded.config.fleet, document: loaded.config.document };
}

function untilSignal(service: Service, log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'stopping');
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      void service.stop().then(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** The `--db` URL, with a relative SQLite path made absolute; a wrong one is a usage error. */
function checkDatabaseUrl(url: string): string {
  try {
    return absoluteDatabaseUrl(url);
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new UsageError(error.message);
    throw error;
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port "${text}" is not a port; give a number from 0 to 65535`);
  return port;
}

function parseSpeed(text: string | undefined): number {
  if (text === undefined) return 1;
  const speed = Number(text);
  if (!Number.isFinite(speed) || speed < 1 || speed > 100_000)
    throw new UsageError(`--speed "${text}" is not a speed; give a number from 1 to 100000`);
  return speed;
}

function parseRateLimit(text: string): number {
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--rate-limit "${text}": give a whole number of requests per minute`);
  return limit;
}

/** The demo's data directory, made if missing; one line naming it when it cannot be. */
function makeDataDirectory(data: string): void {
  try {
    mkdirSync(data, { recursive: true });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(
      `cannot make the demo's data directory ${data} (${reason}); give one this user may write with --data`,
      { cause: error },
    );
  }
}
