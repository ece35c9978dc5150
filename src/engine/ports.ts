/**
 * What the engine needs from the outside world, declared here as small
 * interfaces: a clock, providers and a notifier. Adapters implement them; the
 * engine imports no SDK, driver or framework.
 */
import type { Instant, PowerState, ResourceSize, Selector } from '../core/glossary.js';
import type { TierCost } from '../core/ready-by.js';

export type { ResourceSize } from '../core/glossary.js';

/** The one clock; injected so tests and `demo --speed` control time. */
export interface Clock {
  now(): Instant;
  /** Resolves after `ms` of this clock's time (never much longer: timers are capped and re-armed). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * A simulated clock (`demo --speed`) jumps forward to `t` when it would start
   * behind it (the instant of the last pass of a previous run): time never runs back.
   */
  resumeFrom?(t: number): void;
}

/** A controllable thing a provider found, with a stable id such as `sandbox:ec2:dev-web-1`. */
export interface Resource {
  readonly id: string;
  readonly provider: string;
  readonly kind: string;
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  /** How big it is, when the provider's describe calls say so: what savings price it by. */
  readonly size?: ResourceSize | undefined;
}

/** What a provider sees: settled on or off, on the way, or gone. */
export type Observed = PowerState | 'starting' | 'stopping' | 'missing';

/** An observation, or a resource that settled in a state that means its action failed, with the provider's reason. */
export type Observation = Observed | { readonly state: 'failed'; readonly reason: string };

/**
 * The result of asking a provider to move one resource:
 * - `accepted`: the request went through; verification follows;
 * - `already`: it was already in (or on its way to) the target state;
 * - `failed`: permanent, with the provider's reason; not retried;
 * - `transient`: throttled, timed out, 5xx; retried with backoff.
 */
export interface ActOutcome {
  readonly id: string;
  readonly result: 'accepted' | 'already' | 'failed' | 'transient';
  readonly reason?: string;
  /** What the provider printed (command output), truncated and with secrets masked; kept as an event. */
  readonly output?: string;
}

export interface Provider {
  readonly name: string;
  /**
   * Kinds that start by themselves while stopped (AWS starts a database stopped
   * for 7 days); the engine watches them while their environment should be off.
   */
  readonly restartsByItself?: readonly string[];
  discover(selector: Selector): Promise<Resource[]>;
  /** Current states; a resource the provider no longer finds is `missing`. */
  observe(resources: readonly Resource[]): Promise<Map<string, Observation>>;
  /** Moves a batch towards `target`; one outcome per resource, never a throw for one bad resource. */
  act(resources: readonly Resource[], target: PowerState): Promise<ActOutcome[]>;
  /** How long a resource of `kind` may take to settle before verification gives up. */
  settleTimeoutMs(kind: string): number;
  /**
   * When verification looks at a resource of `kind` after acting on it, following
   * the kind's typical transition time (an EC2 stop takes tens of seconds, an RDS
   * stop minutes). Absent: at once, then every `pollMs` of the engine.
   */
  settlePolls?(kind: string): SettlePolls;
  /**
   * What moving these resources (one tier's, as the inventory knows them) to
   * `target` takes from the account's token buckets, and how long they typically
   * take to settle: the engine begins a large start early enough to be running by
   * its instant, and `lightsout plan` says how long a stop takes. Absent: starts
   * begin at their instant.
   */
  actCost?(resources: readonly Resource[], target: PowerState): TierCost;
  /** Kinds that can be boosted (scaled out for a while): `boost` acts on them. */
  readonly boostKinds?: readonly string[];
  /**
   * `begin` scales out to the maximum with scale-in paused (verified like a start);
   * `end` lets scale-in resume. One outcome per resource.
   */
  boost?(resources: readonly Resource[], phase: 'begin' | 'end'): Promise<ActOutcome[]>;
  /**
   * Called once resources are verified in `state`, on every pass through their
   * tier (so it must be safe to repeat): alarms, informational tags. It never
   * fails the run; what it did comes back as notes, kept as events.
   */
  settled?(resources: readonly Resource[], state: PowerState, run: RunRef): Promise<SettledNote[]>;
}

/**
 * Verification's polls for one kind: the first `firstMs` after the action, then
 * `intervalMs`, each interval half as long again as the one before, up to
 * `maxIntervalMs`. A resource that was already in its state is looked at at once.
 */
export interface SettlePolls {
  readonly firstMs: number;
  readonly intervalMs: number;
  readonly maxIntervalMs: number;
}

export interface RunRef {
  readonly id: string;
  readonly direction: string;
  readonly at: Instant;
}

/** Something a provider did beside the action itself, kept as an event (`alarms.disabled`...). */
export interface SettledNote {
  readonly id: string;
  readonly kind: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** Where a provider keeps what a stop saved to bring a resource back (a capacity, a desired count). */
export interface RestoreData {
  /** Saves one named piece (`capacity`, `alarms`...) for a resource; `undefined` removes it. */
  save(resourceId: string, key: string, data: unknown): Promise<void>;
  /** Many pieces at once, all or none (one transaction). */
  saveMany(
    entries: readonly { readonly id: string; readonly key: string; readonly data: unknown }[],
  ): Promise<void>;
  load(resourceId: string, key: string): Promise<unknown>;
  /** Every resource whose id starts with `prefix` and that has the piece `key`. */
  find(prefix: string, key: string): Promise<{ id: string; data: unknown }[]>;
}

/**
 * stop-warning: `grace` before a stop; run-summary: the run report at every run's
 * end; run-failed and resource-restarted: failure alerts, sent at once; run-digest:
 * a channel's run reports gathered (its `digest` period), made at delivery.
 */
export type NoticeKind =
  'stop-warning' | 'run-summary' | 'run-failed' | 'resource-restarted' | 'run-digest';

export interface Notice {
  readonly kind: NoticeKind;
  readonly environment: string;
  readonly team?: string | undefined;
  readonly runId: string;
  readonly text: string;
  readonly at: Instant;
  readonly details?: Record<string, unknown>;
  /** The configured notifier it goes to; absent: the log. */
  readonly channel?: string;
}

export interface Notifier {
  send(notice: Notice): Promise<void>;
}

/** A thrown provider error that may succeed if tried again (throttling, timeouts, 5xx). */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}
