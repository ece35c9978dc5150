/**
 * CloudWatch alarms of stopped resources (issue #5): after a stop, the actions of
 * every metric alarm whose metric names the resource are disabled, so a stopped
 * instance does not page anyone; after a start, exactly the alarms lightsout
 * disabled are enabled again. An alarm a person had disabled before the stop is
 * never saved, so it stays disabled.
 *
 * The names are saved per resource (`alarms`) before any alarm is touched, and
 * merged with those already saved, so a stop repeated after a crash loses none.
 * An alarm that watches several stopped resources is enabled when the last of
 * them starts.
 *
 * AWS semantics (Amazon CloudWatch API Reference):
 * - DescribeAlarms has no dimension filter, and DescribeAlarmsForMetric needs a
 *   MetricName and Namespace and "does not return alarms based on math expressions"
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmsForMetric.html).
 *   So every metric alarm of the region is listed once per run (`AlarmListing`),
 *   MaxRecords 100 (its maximum) with NextToken, and matched against all targets
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
 * - DisableAlarmActions and EnableAlarmActions take at most 100 names a call
 *   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DisableAlarmActions.html,
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_EnableAlarmActions.html).
 * - Composite alarms have no metric and so no dimensions: they are left alone (the
 *   metric alarms they are built on are handled here). Metrics Insights alarms name
 *   their dimensions inside a query, which is not parsed: left alone too.
 */
import {
  DisableAlarmActionsCommand,
  EnableAlarmActionsCommand,
  paginateDescribeAlarms,
} from '@aws-sdk/client-cloudwatch';
import type {
  CloudWatchClient,
  DescribeAlarmsCommandInput,
  MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import type { Resource, RestoreData } from '../../engine/ports.js';
import type { Connection } from './clients.js';
import type { Dimension, KindContext } from './kind.js';
import { messageOf } from './kind.js';

/**
 * The metric alarms of one account and region, listed once and shared by every
 * `disableAlarms` of a run (all kinds, all tiers): a run lists them once, not once
 * per kind. What lightsout disables is written back into it, so a later tier sees
 * those alarms as disabled. Empty until the first call lists them.
 */
export interface AlarmListing {
  alarms?: Promise<MetricAlarm[]>;
}

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

/** The key of the saved alarm names in the store's restore data. */
const RESTORE_KEY = 'alarms';

/** The documented maximum of names per call (Disable/EnableAlarmActions, DescribeAlarms). */
const MAX_NAMES = 100;

/** Alarm names by the error of the call that failed for them. */
type Failures = Map<string, string>;

/**
 * After resources stopped: disables the actions of every alarm whose dimensions
 * name one of them and whose actions are enabled, and saves which ones per resource.
 */
export async function disableAlarms(
  context: KindContext,
  connection: Connection,
  targets: readonly AlarmTarget[],
  listing: AlarmListing = {},
): Promise<AlarmChange[]> {
  if (!targets.some((t) => t.dimensions.length > 0)) return targets.map(unchanged);
  let client: CloudWatchClient;
  let found: Found[];
  let saved: Map<string, string[]>;
  let alarms: MetricAlarm[];
  try {
    client = await context.clients.get('cloudwatch', connection);
    listing.alarms ??= describeAlarms(client, { AlarmTypes: ['MetricAlarm'] });
    alarms = await listing.alarms.catch((error: unknown) => {
      delete listing.alarms; // a failed listing is not kept: the next call lists again
      throw error;
    });
    saved = await savedNames(context.restore);
    found = matchTargets(alarms, targets, heldNames(saved, new Set()));
  } catch (error) {
    return targets.map((t) => failed(t.resource.id, error));
  }
  const errors = await rememberAll(context.restore, found, saved);
  // Only alarms whose names are safely saved are disabled: otherwise no start would enable them.
  const failures = await inBatches(
    unique(found.flatMap((f) => (errors.has(f.id) ? [] : f.toDisable))),
    (batch) => client.send(new DisableAlarmActionsCommand({ AlarmNames: batch })),
  );
  markDisabled(alarms, found, errors, failures);
  return found.map(({ id, toDisable }) => {
    const error = errors.get(id);
    return error === undefined ? changeOf(id, toDisable, failures) : { id, alarms: [], error };
  });
}

/** Writes what was disabled back into the shared listing. */
function markDisabled(
  alarms: readonly MetricAlarm[],
  found: readonly Found[],
  errors: ReadonlyMap<string, string>,
  failures: Failures,
): void {
  const disabled = new Set(
    found.flatMap((f) => (errors.has(f.id) ? [] : f.toDisable.filter((n) => !failures.has(n)))),
  );
  if (disabled.size === 0) return;
  for (const alarm of alarms) if (disabled.has(nameOf(alarm))) alarm.ActionsEnabled = false;
}

/** After resources started: enables again exactly the alarms lightsout disabled. */
export async function enableAlarms(
  context: KindContext,
  connection: Connection,
  resources: readonly Resource[],
): Promise<AlarmChange[]> {
  const saved = await loadAll(context.restore, resources);
  const names = unique(saved.flatMap((s) => s.names));
  if (names.length === 0) return saved.map(unchangedSaved);
  let client: CloudWatchClient;
  let toEnable: ToEnable[];
  try {
    client = await context.clients.get('cloudwatch', connection);
    const existing = await existingNames(client, names);
    const held = heldNames(await savedNames(context.restore), new Set(resources.map((r) => r.id)));
    toEnable = saved.map((s) => ({
      ...s,
      enable: s.names.filter((name) => existing.has(name) && !held.has(placed(s.id, name))),
    }));
  } catch (error) {
    return saved.map((s) => (s.names.length === 0 ? unchangedSaved(s) : failed(s.id, error)));
  }
  const failures = await inBatches(unique(toEnable.flatMap((s) => s.enable)), (batch) =>
    client.send(new EnableAlarmActionsCommand({ AlarmNames: batch })),
  );
  return forgetAll(context.restore, toEnable, failures);
}

/** A target's matching alarms: all of them to save, those with actions enabled to disable. */
interface Found {
  readonly id: string;
  readonly toSave: string[];
  readonly toDisable: string[];
}

/**
 * An alarm whose actions are already disabled is taken only when lightsout disabled it
 * for another stopped resource: then it stays disabled until the last of them starts.
 */
function matchTargets(
  alarms: readonly MetricAlarm[],
  targets: readonly AlarmTarget[],
  held: ReadonlySet<string>,
): Found[] {
  const index = indexByDimension(alarms);
  return targets.map(({ resource, dimensions }) => {
    // Only alarms carrying the target's first dimension can name it: no scan of every alarm.
    const first = dimensions[0];
    const candidates = first === undefined ? [] : (index.get(dimensionKey(first)) ?? []);
    const matched = candidates.filter(
      (a) =>
        namesTarget(a, dimensions) &&
        (a.ActionsEnabled === true || held.has(placed(resource.id, nameOf(a)))),
    );
    return {
      id: resource.id,
      toSave: matched.map(nameOf),
      toDisable: matched.filter((a) => a.ActionsEnabled === true).map(nameOf),
    };
  });
}

/** Alarms by each dimension (`Name=Value`) of any of their metrics. */
function indexByDimension(alarms: readonly MetricAlarm[]): Map<string, MetricAlarm[]> {
  const index = new Map<string, MetricAlarm[]>();
  for (const alarm of alarms) {
    const keys = new Set(
      [alarm.Dimensions, ...(alarm.Metrics ?? []).map((m) => m.MetricStat?.Metric?.Dimensions)]
        .flatMap((dimensions) => dimensions ?? [])
        .map((d) => dimensionKey({ Name: d.Name ?? '', Value: d.Value ?? '' })),
    );
    for (const key of keys) {
      const list = index.get(key);
      if (list === undefined) index.set(key, [alarm]);
      else list.push(alarm);
    }
  }
  return index;
}

function dimensionKey(d: Dimension): string {
  return `${d.Name}=${d.Value}`;
}

/**
 * Saves each target's new names, merged with those saved before, in one write;
 * the store's error for every target when that write fails.
 */
async function rememberAll(
  restore: RestoreData,
  found: readonly Found[],
  saved: ReadonlyMap<string, string[]>,
): Promise<Map<string, string>> {
  const entries = found.flatMap(({ id, toSave }) => {
    const before = saved.get(id) ?? [];
    const merged = unique([...before, ...toSave]);
    return merged.length > before.length ? [{ id, key: RESTORE_KEY, data: merged }] : [];
  });
  try {
    await restore.saveMany(entries);
    return new Map();
  } catch (error) {
    return new Map(entries.map((e) => [e.id, messageOf(error)]));
  }
}

/**
 * Clears what was saved for each resource whose alarms were all enabled; on any
 * failure it is kept, so the next start tries again.
 */
async function forgetAll(
  restore: RestoreData,
  toEnable: readonly ToEnable[],
  failures: Failures,
): Promise<AlarmChange[]> {
  const changes: AlarmChange[] = [];
  for (const saved of toEnable) {
    if (saved.error !== undefined || saved.names.length === 0) {
      changes.push(unchangedSaved(saved));
      continue;
    }
    const change = changeOf(saved.id, saved.enable, failures);
    changes.push(change.error === undefined ? await forget(restore, change) : change);
  }
  return changes;
}

/** Every metric alarm matching the input, across pages. */
async function describeAlarms(
  client: CloudWatchClient,
  input: DescribeAlarmsCommandInput,
): Promise<MetricAlarm[]> {
  const alarms: MetricAlarm[] = [];
  for await (const page of paginateDescribeAlarms({ client, pageSize: MAX_NAMES }, input)) {
    alarms.push(...(page.MetricAlarms ?? []));
  }
  return alarms;
}

/**
 * The saved names that still exist. EnableAlarmActions documents no error for an
 * unknown name (only the common errors), so rather than rely on it either way, alarms
 * deleted while the resource was stopped are left out.
 */
async function existingNames(client: CloudWatchClient, names: string[]): Promise<Set<string>> {
  const existing = new Set<string>();
  for (const batch of batches(names)) {
    const alarms = await describeAlarms(client, { AlarmTypes: ['MetricAlarm'], AlarmNames: batch });
    for (const alarm of alarms) existing.add(nameOf(alarm));
  }
  return existing;
}

/**
 * True when one of the alarm's metrics, plain or in a metric-math query, carries
 * every dimension of the target (for ECS both ClusterName and ServiceName). A target
 * without dimensions names nothing.
 */
function namesTarget(alarm: MetricAlarm, target: readonly Dimension[]): boolean {
  if (target.length === 0) return false;
  const metrics = [
    alarm.Dimensions,
    ...(alarm.Metrics ?? []).map((m) => m.MetricStat?.Metric?.Dimensions),
  ];
  return metrics.some((dimensions) =>
    target.every((t) => (dimensions ?? []).some((d) => d.Name === t.Name && d.Value === t.Value)),
  );
}

/** Sends the names 100 at a time; a failed call fails only its own names. */
async function inBatches(
  names: string[],
  send: (batch: string[]) => Promise<unknown>,
): Promise<Failures> {
  const failures: Failures = new Map();
  for (const batch of batches(names)) {
    try {
      await send(batch);
    } catch (error) {
      for (const name of batch) failures.set(name, messageOf(error));
    }
  }
  return failures;
}

/** The names saved for a resource, or why they could not be read. */
interface Saved {
  readonly id: string;
  readonly names: string[];
  readonly error?: string;
}

/** Of the saved names, those to enable: still existing, and watching no resource still stopped. */
interface ToEnable extends Saved {
  readonly enable: string[];
}

async function loadAll(restore: RestoreData, resources: readonly Resource[]): Promise<Saved[]> {
  const saved: Saved[] = [];
  for (const resource of resources) saved.push(await loadSaved(restore, resource.id));
  return saved;
}

async function loadSaved(restore: RestoreData, id: string): Promise<Saved> {
  try {
    return { id, names: asNames(await restore.load(id, RESTORE_KEY)) };
  } catch (error) {
    return { id, names: [], error: messageOf(error) };
  }
}

async function forget(restore: RestoreData, change: AlarmChange): Promise<AlarmChange> {
  try {
    await restore.save(change.id, RESTORE_KEY, undefined);
    return change;
  } catch (error) {
    return { ...change, error: messageOf(error) };
  }
}

/**
 * The alarms lightsout disabled for resources other than `except`, as `placed` keys:
 * alarm names are unique per account and region, not across them.
 */
/** Every AWS resource's saved alarm names, by resource id. */
async function savedNames(restore: RestoreData): Promise<Map<string, string[]>> {
  return new Map(
    (await restore.find('aws:', RESTORE_KEY)).map(({ id, data }) => [id, asNames(data)]),
  );
}

function heldNames(saved: ReadonlyMap<string, string[]>, except: ReadonlySet<string>): Set<string> {
  const held = new Set<string>();
  for (const [id, names] of saved) {
    if (except.has(id)) continue;
    for (const name of names) held.add(placed(id, name));
  }
  return held;
}

/** An alarm name with the region and account of a resource id (`aws:KIND:REGION:ACCOUNT:NAME`). */
function placed(resourceId: string, alarmName: string): string {
  return [...resourceId.split(':').slice(2, 4), alarmName].join('|');
}

function changeOf(id: string, names: string[], failures: Failures): AlarmChange {
  const error = names.map((n) => failures.get(n)).find((e) => e !== undefined);
  const alarms = names.filter((n) => !failures.has(n));
  return error === undefined ? { id, alarms } : { id, alarms, error };
}

function nameOf(alarm: MetricAlarm): string {
  return alarm.AlarmName ?? '';
}

function asNames(data: unknown): string[] {
  return Array.isArray(data) ? data.filter((n): n is string => typeof n === 'string') : [];
}

function batches(names: readonly string[]): string[][] {
  const result: string[][] = [];
  for (let i = 0; i < names.length; i += MAX_NAMES) result.push(names.slice(i, i + MAX_NAMES));
  return result;
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)];
}

function unchanged(target: AlarmTarget): AlarmChange {
  return { id: target.resource.id, alarms: [] };
}

function unchangedSaved({ id, error }: Saved): AlarmChange {
  return { id, alarms: [], ...errorOf(error) };
}

function failed(id: string, error: unknown): AlarmChange {
  return { id, alarms: [], error: messageOf(error) };
}

function errorOf(error: string | undefined): { error?: string } {
  return error === undefined ? {} : { error };
}
