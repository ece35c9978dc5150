/**
 * CloudWatch alarms of stopped resources: not built yet (issue #5).
 */
import type { Resource } from '../../engine/ports.js';
import type { Connection } from './clients.js';
import type { Dimension, KindContext } from './kind.js';

/** A resource and the dimensions that name it in CloudWatch metrics. */
export interface AlarmTarget {
  readonly resource: Resource;
  readonly dimensions: readonly Dimension[];
}

/** What happened to one resource's alarms. */
export interface AlarmChange {
  readonly id: string;
  /** Names of the alarms whose actions were disabled (or enabled again). */
  readonly alarms: readonly string[];
  readonly error?: string;
}

/**
 * After resources stopped: disables the actions of every alarm whose dimensions
 * name one of them and whose actions are enabled, and saves which ones per resource.
 */
export function disableAlarms(
  _context: KindContext,
  _connection: Connection,
  targets: readonly AlarmTarget[],
): Promise<AlarmChange[]> {
  return Promise.resolve(targets.map((t) => ({ id: t.resource.id, alarms: [] })));
}

/** After resources started: enables again exactly the alarms lightsout disabled. */
export function enableAlarms(
  _context: KindContext,
  _connection: Connection,
  resources: readonly Resource[],
): Promise<AlarmChange[]> {
  return Promise.resolve(resources.map((r) => ({ id: r.id, alarms: [] })));
}
