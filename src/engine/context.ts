/**
 * What every part of the engine shares: the store, the clock, providers, the
 * notifier, the log and the fleet from the config file. Built once by the Engine.
 */
import type { Environment, Schedule } from '../core/glossary.js';
import type { StoredHold } from '../store/queries/plans.js';
import type { Store } from '../store/store.js';
import type { Clock, Notifier, Provider } from './ports.js';
import type { RetryPolicy } from './retry.js';

export interface EngineLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface EngineContext {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: EngineLog;
  readonly notifier: Notifier;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly schedules: ReadonlyMap<string, Schedule>;
  readonly environments: ReadonlyMap<string, Environment>;
  /** This process's name in run leases. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  readonly safetyTickMs: number;
  readonly watchMs: number;
  readonly retry: RetryPolicy;
  /** Channels that gather run reports into one message per period (ms), by notifier name. */
  readonly digests: ReadonlyMap<string, number>;
  /** Set on shutdown: no new run starts, runs stop at their next safe point. */
  readonly signal: AbortSignal;
  /** Tells this process's reconciler loop that something changed (a run ended, a plan changed). */
  readonly changed: () => void;
}

export const DEFAULT_GRACE_MS = 15 * 60_000;
export const HOUR = 3_600_000;

export function graceOf(environment: Environment): number {
  return environment.graceMs ?? DEFAULT_GRACE_MS;
}

/**
 * How far ahead of a planned transition its run is committed when its grace is
 * shorter. A thousand environments whose transitions fall on one instant need a
 * thousand commits; made ahead, the instant itself costs only the runs' actions
 * (a run still re-checks that it is wanted before it acts).
 */
export const COMMIT_AHEAD_MS = 10_000;

/** How far ahead of a scheduled stop a pass commits its run: the grace, at least COMMIT_AHEAD_MS. */
export function leadOf(environment: Environment): number {
  return Math.max(graceOf(environment), COMMIT_AHEAD_MS);
}

export function iso(t: number): string {
  return new Date(t).toISOString();
}

export function stateOf(direction: string): 'on' | 'off' {
  return direction === 'start' ? 'on' : 'off';
}

export function directionOf(state: 'on' | 'off'): 'start' | 'stop' {
  return state === 'on' ? 'start' : 'stop';
}

/** A command that cannot be carried out as asked; the message says why and what to do. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/**
 * Keeping an environment on, refused because a hold-off is in force in that window:
 * a hold-off wins over everything, so the keep-on would do nothing. Carries the
 * hold-off, so each face can say how to lift it in its own terms.
 */
export class HeldOff extends CommandError {
  constructor(
    readonly hold: StoredHold,
    message: string,
  ) {
    super(message);
  }
}
