/**
 * Commands that read or write the same store as a running `lightsout serve`:
 * status, runs, events, start, stop, cancel, extend, reserve. Writes go through
 * the engine's commands, so they are validated and recorded as events with their
 * actor; the server carries out the runs they create at its next pass.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { DateTime } from 'luxon';
import type { Environment, Instant } from '../core/glossary.js';
import { planFleet } from '../core/planner.js';
import { INSTANT_HINT, parseInstant } from '../core/time-text.js';
import type { LoadedConfig } from '../config/load.js';
import { formatDiagnostic, loadConfigFile } from '../config/load.js';
import { parseDuration } from '../config/schema.js';
import type { Limit } from '../core/limits.js';
import { MAX_BOOST, MAX_GRACE } from '../core/limits.js';
import { clockOfStore } from '../app/stored-clock.js';
import { SystemClock } from '../engine/clock.js';
import { checkReservationWindow, CommandError, Engine } from '../engine/engine.js';
import { DatabaseUrlError, StoreNotFoundError } from '../store/db.js';
import { CursorError, eventJson } from '../store/queries/events.js';
import { openStore } from '../store/store.js';
import type { Store } from '../store/store.js';
import { absoluteDatabaseUrl, commandLine, printableDatabaseUrl } from './invocation.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';
import { formatTable } from './table.js';

export interface StoreOptions {
  readonly config: string;
  readonly db: string;
  readonly json?: boolean;
}

interface Context {
  readonly config: LoadedConfig;
  readonly store: Store;
  readonly engine: Engine;
  /** Now on the store's clock: a demo's scaled clock if the store keeps one, else the wall clock. */
  readonly now: Instant;
  readonly actor: string;
  /** `node /abs/dist/cli/main.js ARGS --config ABS --db URL`: a command on this store, to paste. */
  readonly commandLine: (args: readonly string[]) => string;
}

/**
 * Loads the config, opens the store (which must exist unless `create`: a
 * mistyped path is not a new, empty store), reads the command's input with `parse` at the store's now,
 * then runs `work` with what was read. Config errors exit 1, usage errors 2.
 */
export async function withContext<T>(
  options: StoreOptions,
  io: CliIo,
  parse: (config: LoadedConfig, now: Instant) => T,
  work: (context: Context, input: T) => Promise<number>,
  /** Make the store when there is none (`token create`: the first token comes before the first serve). */
  create = false,
): Promise<number> {
  const loaded = await loadConfigFile(options.config);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.err(formatDiagnostic(d));
    return EXIT.invalidConfig;
  }
  const db = asUsage(() => absoluteDatabaseUrl(options.db));
  const onThisStore = (args: readonly string[]) =>
    commandLine([...args, '--config', resolve(options.config), '--db', printableDatabaseUrl(db)]);
  let store: Store;
  try {
    store = await openStore(db, { create });
  } catch (error) {
    if (error instanceof DatabaseUrlError) throw new UsageError(error.message);
    if (error instanceof StoreNotFoundError)
      throw new UsageError(
        `${error.message}; start one with: ${onThisStore(['serve'])} (or pass --db)`,
      );
    throw error;
  }
  try {
    const now = await clockOfStore(store, io.now);
    const at = now();
    const input = asUsage(() => parse(loaded.config, at));
    const clock = { now, sleep: (ms: number) => new SystemClock().sleep(ms) };
    const engine = new Engine({
      store,
      providers: new Map(),
      clock,
      notifier: { send: () => Promise.resolve() },
      // Notices are the serving process's to deliver (to the team's channels), not this command's.
      delivers: false,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      schedules: loaded.config.fleet.schedules,
      environments: loaded.config.fleet.environments,
    });
    const context = {
      config: loaded.config,
      store,
      engine,
      now: at,
      actor: actorName(),
      commandLine: onThisStore,
    };
    return await work(context, input);
  } catch (error) {
    if (error instanceof CommandError || error instanceof CursorError)
      throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}

/** Engine refusals and unreadable URLs read as command-line mistakes. */
function asUsage<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof CommandError || error instanceof DatabaseUrlError)
      throw new UsageError(error.message);
    throw error;
  }
}

function actorName(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export function environmentOf(config: LoadedConfig, name: string): Environment {
  const environment = config.fleet.environments.find((e) => e.name === name);
  if (environment === undefined) {
    const known = config.fleet.environments.map((e) => e.name).join(', ');
    throw new UsageError(`there is no environment "${name}"; known: ${known}`);
  }
  return environment;
}

/**
 * A time from the command line: ISO 8601 (without an offset it is read in
 * `zone`, or refused when there is none), or `+DURATION` from now (e.g. `+2h`).
 */
export function readTime(
  flag: string,
  text: string,
  zone: string | undefined,
  now: Instant,
): Instant {
  const trimmed = text.trim();
  if (trimmed.startsWith('+')) {
    const parsed = parseDuration(trimmed.slice(1));
    if (!parsed.ok || parsed.value <= 0)
      throw new UsageError(`--${flag} "${text}" is not a time from now; write e.g. +2h or +30m`);
    return now + parsed.value;
  }
  if (zone === undefined && !/(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)) {
    throw new UsageError(
      `--${flag} "${text}" has no time zone; add Z or an offset (e.g. ${text}Z), or pass --env so it is read in that environment's zone`,
    );
  }
  const parsed = parseInstant(text, zone ?? 'UTC');
  if (!parsed.ok)
    throw new UsageError(
      `--${flag} "${text}" is not a date and time; ${INSTANT_HINT}, or a time from now such as +2h`,
    );
  return parsed.value;
}

/** `--limit`: a whole number from 1 to 1000. */
function parseLimit(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError(`--limit "${text}" is not a count; give a whole number from 1 to 1000`);
  return limit;
}

function parseGrace(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new UsageError(`--grace: ${parsed.error}`);
  return atMost('grace', parsed.value, MAX_GRACE);
}

/** The same bounds as the API's (core/limits.ts): no command plans an unbounded window. */
function atMost(flag: string, ms: number, limit: Limit): number {
  if (ms > limit.ms) throw new UsageError(`--${flag}: at most ${limit.text}`);
  return ms;
}

function local(t: Instant, zone: string): string {
  return DateTime.fromMillis(t, { zone }).toFormat('ccc yyyy-LL-dd HH:mm ZZ');
}

/** `2026-12-01 08:00 Europe/Paris (07:00 UTC)`: the zone's wall clock, and UTC (with its date when that differs). */
function zoned(t: Instant, zone: string): string {
  const there = DateTime.fromMillis(t, { zone });
  const utc = there.toUTC();
  const utcText =
    utc.toISODate() === there.toISODate()
      ? utc.toFormat('HH:mm')
      : utc.toFormat('yyyy-LL-dd HH:mm');
  const local = `${there.toFormat('yyyy-LL-dd HH:mm')} ${zone}`;
  return there.offset === 0 ? local : `${local} (${utcText} UTC)`;
}

function iso(t: Instant | null | undefined): string {
  return t === null || t === undefined ? '' : new Date(t).toISOString();
}

export async function statusCommand(
  options: StoreOptions & { env?: string },
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    (config) =>
      options.env === undefined ? config.fleet.environments : [environmentOf(config, options.env)],
    async (context, environments) => {
      const { reservations, holds } = await context.store.activePlans(context.now);
      const fleet = { ...context.config.fleet, reservations, holds };
      const timelines = planFleet(fleet, {
        start: context.now,
        end: context.now + 14 * 86_400_000,
      });
      const applied = new Map(
        (await context.store.listApplied())
          .filter((a) => a.resource === '')
          .map((a) => [a.environment, a]),
      );
      const rows = [];
      for (const e of environments) {
        const plan = timelines.get(e.name)!.plan();
        const committed = applied.get(e.name);
        const [last] = await context.store.listRuns({ environment: e.name, limit: 1 });
        const next = plan.transitions[0];
        rows.push({
          environment: e,
          desired: plan.initial,
          // What lightsout last committed to bring about (none before its first pass).
          applied:
            committed === undefined
              ? null
              : { state: committed.state, seq: committed.seq, failures: committed.failures },
          next,
          lastRun:
            last === undefined
              ? null
              : {
                  id: last.id,
                  direction: last.direction,
                  status: last.status,
                  dueAt: iso(last.due_at),
                },
          reservations: reservations.filter((r) => r.environment === e.name).length,
          holds: holds
            .filter((h) => h.environment === e.name)
            .map((h) => ({ state: h.state, until: iso(h.until) })),
        });
      }
      if (options.json === true) {
        const json = rows.map(({ environment, next, ...row }) => ({
          environment: environment.name,
          team: environment.team ?? null,
          ...row,
          next: next === undefined ? null : { at: iso(next.at), state: next.state },
        }));
        io.out(JSON.stringify({ at: iso(context.now), environments: json }));
        return EXIT.ok;
      }
      io.out(
        formatTable(
          ['ENVIRONMENT', 'TEAM', 'DESIRED', 'APPLIED', 'NEXT', 'LAST RUN', 'HOLDS'],
          rows.map((r) => [
            r.environment.name,
            r.environment.team ?? '',
            r.desired,
            r.applied === null
              ? ''
              : `${r.applied.state}${r.applied.failures > 0 ? ` (retrying, ${r.applied.failures} failed)` : ''}`,
            r.next === undefined
              ? 'none in 14 days'
              : `${r.next.state} at ${local(r.next.at, r.environment.timezone)}`,
            r.lastRun === null ? '' : `${r.lastRun.direction} ${r.lastRun.status}`,
            r.holds.map((h) => `${h.state} until ${h.until}`).join(', '),
          ]),
        ),
      );
      return EXIT.ok;
    },
  );
}

export async function runsCommand(
  options: StoreOptions & { env?: string; limit?: string },
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    (config) => {
      if (options.env !== undefined) environmentOf(config, options.env);
      return { limit: parseLimit(options.limit, 20) };
    },
    async (context, { limit }) => {
      const runs = await context.store.listRuns({ environment: options.env, limit });
      if (options.json === true) {
        const summary = (text: string | null) =>
          text === null ? null : (JSON.parse(text) as unknown);
        // Times in ISO 8601, as everywhere else lightsout shows them.
        const times = (r: (typeof runs)[number]) => ({
          due_at: iso(r.due_at),
          act_at: iso(r.act_at),
          created_at: iso(r.created_at),
          updated_at: iso(r.updated_at),
          finished_at: r.finished_at === null ? null : iso(r.finished_at),
          lease_until: r.lease_until === null ? null : iso(r.lease_until),
          until_at: r.until_at === null ? null : iso(r.until_at),
        });
        io.out(
          JSON.stringify({
            runs: runs.map((r) => ({ ...r, ...times(r), summary: summary(r.summary) })),
          }),
        );
        return EXIT.ok;
      }
      io.out(
        formatTable(
          ['RUN', 'ENVIRONMENT', 'DIRECTION', 'TRIGGER', 'STATUS', 'DUE', 'ACTS AT'],
          runs.map((r) => [
            r.id,
            r.environment,
            r.direction,
            r.trigger,
            r.status,
            iso(r.due_at),
            iso(r.act_at),
          ]),
        ),
      );
      return EXIT.ok;
    },
  );
}

export interface EventsOptions extends StoreOptions {
  readonly env?: string;
  readonly kind?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: string;
  readonly after?: string;
}

export async function eventsCommand(options: EventsOptions, io: CliIo): Promise<number> {
  return withContext(
    options,
    io,
    (config, now) => {
      const zone =
        options.env === undefined ? undefined : environmentOf(config, options.env).timezone;
      return {
        from: options.since === undefined ? undefined : readTime('since', options.since, zone, now),
        to: options.until === undefined ? undefined : readTime('until', options.until, zone, now),
        limit: parseLimit(options.limit, 100),
      };
    },
    async (context, { from, to, limit }) => {
      const page = await context.store.queryEvents(
        { environment: options.env, kind: options.kind, from, to },
        { after: options.after, limit },
      );
      if (options.json === true) {
        io.out(JSON.stringify({ ...page, events: page.events.map(eventJson) }));
        return EXIT.ok;
      }
      io.out(
        formatTable(
          ['AT', 'KIND', 'ENVIRONMENT', 'ACTOR', 'RUN'],
          page.events.map((e) => [iso(e.at), e.kind, e.environment ?? '', e.actor, e.runId ?? '']),
        ),
      );
      if (page.next !== undefined) io.out(`more: --after ${page.next}`);
      return EXIT.ok;
    },
  );
}

export async function switchCommand(
  direction: 'start' | 'stop',
  name: string,
  options: StoreOptions & { grace?: string; until?: string },
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    (config, now) => {
      const { timezone } = environmentOf(config, name);
      return {
        grace: parseGrace(options.grace),
        until:
          options.until === undefined ? undefined : readTime('until', options.until, timezone, now),
      };
    },
    async (context, { grace, until }) => {
      const environment = environmentOf(context.config, name);
      const run = await context.engine.command(name, direction, context.actor, grace, until);
      // The command holds the environment in its state; the hold names its run.
      const hold = (await context.store.listHolds([name], context.now)).find(
        (h) => h.note === `run ${run.id}`,
      );
      if (options.json === true) {
        io.out(
          JSON.stringify({
            run: run.id,
            actAt: iso(run.act_at),
            hold: hold === undefined ? null : { id: hold.id, until: iso(hold.until) },
          }),
        );
        return EXIT.ok;
      }
      // The warning is the serving process's to send to the team; the person who typed it sees it here.
      for (const notice of await context.store.listNotices(run.id))
        if (notice.kind === 'stop-warning' && notice.channel === '')
          io.out((JSON.parse(notice.body) as { text: string }).text);
      io.out(`run ${run.id}: ${direction} ${name} at ${iso(run.act_at)}`);
      if (run.direction === 'stop' && run.act_at > context.now)
        io.out(`cancel with: ${context.commandLine(['cancel', run.id])}`);
      if (hold !== undefined)
        io.out(
          `${name} held ${hold.state} until ${zoned(hold.until, environment.timezone)}; lift with: ${context.commandLine(['hold', 'delete', hold.id])}`,
        );
      return EXIT.ok;
    },
  );
}

/** `lightsout hold list`: the holds in force or to come, config-made ones included. */
export async function holdListCommand(
  options: StoreOptions & { env?: string },
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    (config) =>
      (options.env === undefined
        ? config.fleet.environments
        : [environmentOf(config, options.env)]
      ).map((e) => e.name),
    async (context, names) => {
      const holds = await context.store.listHolds(names, context.now);
      if (options.json === true) {
        io.out(
          JSON.stringify({
            holds: holds.map((h) => ({
              id: h.id,
              environment: h.environment,
              state: h.state,
              from: h.from === undefined ? null : iso(h.from),
              until: iso(h.until),
              source: h.source,
              actor: h.actor,
              note: h.note,
            })),
          }),
        );
        return EXIT.ok;
      }
      io.out(
        formatTable(
          ['HOLD', 'ENVIRONMENT', 'STATE', 'UNTIL', 'BY', 'NOTE'],
          holds.map((h) => [
            h.id,
            h.environment,
            h.state,
            iso(h.until),
            h.source === 'config' ? 'config' : h.actor,
            h.note ?? '',
          ]),
        ),
      );
      return EXIT.ok;
    },
  );
}

/** `lightsout hold delete ID`: lifts a hold made by a command or the API. */
export async function holdDeleteCommand(
  id: string,
  options: StoreOptions,
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    () => undefined,
    async (context) => {
      const hold = await context.store.getHold(id);
      if (hold === undefined)
        throw new UsageError(
          `there is no hold "${id}"; list them with: ${context.commandLine(['hold', 'list'])}`,
        );
      if (!(await context.engine.deleteHold(hold, context.actor)))
        throw new UsageError(
          `hold ${id} comes from the config file; remove it there (holds:) and restart the server`,
        );
      io.out(`deleted hold ${id}: ${hold.environment} is no longer held ${hold.state}`);
      return EXIT.ok;
    },
  );
}

/** `lightsout boost ENV --for 30m`: scale the environment's services out for a while. */
export async function boostCommand(
  name: string,
  options: StoreOptions & { for: string },
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    (config) => {
      environmentOf(config, name);
      const parsed = parseDuration(options.for);
      if (!parsed.ok) throw new UsageError(`--for: ${parsed.error}`);
      if (parsed.value <= 0) throw new UsageError('--for: give a positive duration, e.g. 30m');
      return atMost('for', parsed.value, MAX_BOOST);
    },
    async (context, forMs) => {
      const run = await context.engine.boost(name, forMs, context.actor);
      io.out(
        options.json === true
          ? JSON.stringify({ run: run.id, until: iso(run.until_at) })
          : `run ${run.id}: boost ${name} until ${iso(run.until_at)}`,
      );
      return EXIT.ok;
    },
  );
}

export async function cancelCommand(
  runId: string,
  options: StoreOptions & { until?: string },
  io: CliIo,
): Promise<number> {
  // The run, and so the zone of --until, is known only from the store.
  return withContext(
    options,
    io,
    () => undefined,
    async (context) => {
      const run = await context.store.getRun(runId);
      if (run === undefined)
        throw new UsageError(`there is no run "${runId}"; list runs with lightsout runs`);
      const zone = environmentOf(context.config, run.environment).timezone;
      const until =
        options.until === undefined
          ? undefined
          : readTime('until', options.until, zone, context.now);
      if (until !== undefined && until <= context.now)
        throw new UsageError(`--until ${iso(until)} is in the past; give a later time`);
      const result = await context.engine.cancel(runId, context.actor, until);
      io.out(`cancelled run ${runId}; ${run.environment} stays on until ${iso(result.holdUntil)}`);
      return EXIT.ok;
    },
  );
}

export async function extendCommand(
  name: string,
  options: StoreOptions & { until: string },
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    (config, now) => readTime('until', options.until, environmentOf(config, name).timezone, now),
    async (context, until) => {
      await context.engine.extend(name, until, context.actor);
      io.out(`${name} stays on until ${iso(until)}`);
      return EXIT.ok;
    },
  );
}

export async function reserveCommand(
  name: string,
  options: StoreOptions & { from: string; to: string; note?: string; resource?: string },
  io: CliIo,
): Promise<number> {
  return withContext(
    options,
    io,
    (config, now) => {
      const zone = environmentOf(config, name).timezone;
      const window = {
        from: readTime('from', options.from, zone, now),
        to: readTime('to', options.to, zone, now),
      };
      checkReservationWindow(window.from, window.to, now);
      return window;
    },
    async (context, { from, to }) => {
      const { resource } = options;
      if (
        resource !== undefined &&
        (await context.store.getResource(resource))?.environment !== name
      )
        throw new CommandError(
          `${name} manages no resource "${resource}"; give the id of one it has discovered (GET /api/v1/environments/${name} lists them)`,
        );
      await context.engine.reserve(name, from, to, context.actor, options.note, resource);
      io.out(`reserved ${resource ?? name} from ${iso(from)} to ${iso(to)}`);
      return EXIT.ok;
    },
  );
}
