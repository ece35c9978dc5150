/** An engine over a real store, the sandbox provider and virtual time. */
import type { Environment, Hold, Reservation, Schedule } from '../../src/core/glossary.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { Engine } from '../../src/engine/engine.js';
import type { EngineLog, EngineOptions } from '../../src/engine/engine.js';
import type { Clock, Notice, Notifier, Provider } from '../../src/engine/ports.js';
import { RetryPolicy } from '../../src/engine/retry.js';
import { SandboxProvider } from '../../src/providers/sandbox/sandbox.js';
import type { SandboxSeed } from '../../src/providers/sandbox/sandbox.js';
import type { Store } from '../../src/store/store.js';
import { at } from '../helpers.js';

export const silentLog: EngineLog = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export class RecordingNotifier implements Notifier {
  readonly notices: Notice[] = [];
  send(notice: Notice): Promise<void> {
    this.notices.push(notice);
    return Promise.resolve();
  }
}

export interface HarnessOptions {
  schedules?: Schedule[];
  environments: Environment[];
  seeds: SandboxSeed[];
  reservations?: Reservation[];
  holds?: Hold[];
  start: string;
  pollMs?: number;
  providers?: ReadonlyMap<string, Provider>;
}

export async function harness(store: Store, options: HarnessOptions) {
  const clock = new VirtualClock(at(options.start));
  const sandbox = new SandboxProvider(store.db, clock, { settleScale: 0.01 });
  await sandbox.seed(options.seeds);
  await store.syncConfig(
    {
      environments: options.environments.map((e) => ({
        name: e.name,
        team: e.team ?? null,
        timezone: e.timezone,
        schedule: e.schedule ?? null,
        definition: e,
      })),
      reservations: options.reservations ?? [],
      holds: options.holds ?? [],
    },
    clock.now(),
  );
  const notifier = new RecordingNotifier();
  /** An engine as a (re)started process makes it; `providers` replaces the configured ones. */
  const makeEngine = (
    owner = 'test',
    providers = options.providers,
    extra: Partial<EngineOptions> & { clock?: Clock } = {},
  ) =>
    new Engine({
      store,
      providers: new Map<string, Provider>([['sandbox', sandbox], ...(providers ?? [])]),
      clock,
      notifier,
      log: silentLog,
      schedules: new Map((options.schedules ?? []).map((s) => [s.name, s])),
      environments: options.environments,
      owner,
      pollMs: options.pollMs ?? 1_000,
      retry: new RetryPolicy(4, 100, 1_000, () => 0.5),
      ...extra,
    });
  const engine = makeEngine();
  /** Moves time to `iso` and runs a pass, waiting for the runs it starts. */
  const tickAt = async (iso: string, which = engine) => {
    clock.set(at(iso));
    const next = await which.tick();
    await which.idle();
    return next;
  };
  const states = async () => {
    const resources = await sandbox.discover({ provider: 'sandbox' });
    const observed = await sandbox.observe(resources);
    return Object.fromEntries(resources.map((r) => [r.name, observed.get(r.id)]));
  };
  return { clock, sandbox, notifier, engine, makeEngine, tickAt, states };
}
