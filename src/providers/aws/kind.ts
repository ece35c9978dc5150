/**
 * What every AWS kind (ec2, asg, rds, aurora, ecs, stack) provides to the AWS
 * provider: discovery in one region, observation, and a move towards a state,
 * each for the resources reached through one connection.
 */
import type { PowerState } from '../../core/glossary.js';
import type {
  ActOutcome,
  Observation,
  Resource,
  RestoreData,
  SettledNote,
} from '../../engine/ports.js';
import { isTransient } from '../../engine/retry.js';
import type { AwsClients, Connection } from './clients.js';

export interface KindContext {
  readonly clients: AwsClients;
  /** What a stop saved to bring a resource back, kept in the store. */
  readonly restore: RestoreData;
  readonly now: () => number;
}

/** Where to look and what to look for: one region of one selector. */
export interface DiscoveryScope {
  readonly connection: Connection;
  readonly tags: Readonly<Record<string, string>>;
  /** Hibernate instances instead of stopping them (ec2). */
  readonly hibernate: boolean;
}

/** A CloudWatch alarm dimension that names a resource (see alarms.ts). */
export interface Dimension {
  readonly Name: string;
  readonly Value: string;
}

export interface AwsKind {
  readonly kind: string;
  discover(context: KindContext, scope: DiscoveryScope): Promise<Resource[]>;
  observe(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
  ): Promise<Map<string, Observation>>;
  act(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    target: PowerState,
  ): Promise<ActOutcome[]>;
  /**
   * Once resources are verified on: forgets what their stop saved to bring them
   * back (store rows and tags), which no longer says anything once they run. Safe
   * to repeat; what it did, or could not do, comes back as notes.
   */
  forgetRestore?(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
  ): Promise<SettledNote[]>;
  /** The alarm dimensions that name a resource, for disabling its alarms while it is off. */
  alarmDimensions?(resource: Resource): Dimension[];
  /**
   * Sets the informational tag `lightsout:last-action` (e.g. `stop 2026-11-25T18:00:00Z
   * run 0193...`) on acted resources; only when the config asks for it.
   */
  tagLastAction?(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    value: string,
  ): Promise<void>;
  /**
   * The burst action (ecs): `begin` pauses scale-in and scales to the autoscaling
   * target's maximum; `end` resumes scale-in. Verified like a start.
   */
  boost?(
    context: KindContext,
    connection: Connection,
    resources: readonly Resource[],
    phase: 'begin' | 'end',
  ): Promise<ActOutcome[]>;
}

export const LAST_ACTION_TAG = 'lightsout:last-action';

/** `aws:KIND:REGION:ACCOUNT:NAME`; the name may itself hold colons. */
export function awsId(kind: string, region: string, account: string, name: string): string {
  return `aws:${kind}:${region}:${account}:${name}`;
}

export function nameOf(resource: Resource): string {
  return resource.id.split(':').slice(4).join(':');
}

export function regionOf(resource: Resource): string {
  return resource.id.split(':')[2] ?? '';
}

export function accountOf(resource: Resource): string {
  return resource.id.split(':')[3] ?? '';
}

/** AWS tag lists (`[{Key, Value}]`) as a record. */
export function tagRecord(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): Record<string, string> {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
}

/** True when a resource carries every tag of a selector. */
export function hasTags(
  tags: Readonly<Record<string, string>>,
  wanted: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(wanted).every(([k, v]) => tags[k] === v);
}

/** AWS's error code and message, without repeating the code. */
export function messageOf(error: unknown): string {
  const { name, message } = error as { name?: string; message?: string };
  return name !== undefined && message !== undefined && !message.startsWith(name)
    ? `${name}: ${message}`
    : (message ?? String(error));
}

/** The outcome for a resource whose request threw: retried if transient, failed otherwise. */
export function outcomeOfError(resource: Resource, error: unknown): ActOutcome {
  return {
    id: resource.id,
    result: isTransient(error) ? 'transient' : 'failed',
    reason: messageOf(error),
  };
}

/** Acts on each resource in turn; a throw becomes that resource's outcome, never the batch's. */
export async function eachResource(
  resources: readonly Resource[],
  act: (resource: Resource) => Promise<ActOutcome>,
): Promise<ActOutcome[]> {
  const outcomes: ActOutcome[] = [];
  for (const resource of resources) {
    try {
      outcomes.push(await act(resource));
    } catch (error) {
      outcomes.push(outcomeOfError(resource, error));
    }
  }
  return outcomes;
}

/** A kind that is declared but not built yet: discovery fails with a clear reason. */
export function notYet(kind: string): AwsKind {
  const refuse = () =>
    Promise.reject(new Error(`the AWS kind ${kind} is not built yet in this version of lightsout`));
  return { kind, discover: refuse, observe: refuse, act: refuse };
}
