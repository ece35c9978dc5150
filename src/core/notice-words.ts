/**
 * The words notices use for what a run acts on and why: "3 EC2 instances, 1 RDS
 * database", "schedule \"office-hours\"", "ad-hoc stop by alice". Pure, so every
 * channel and the CLI say the same thing.
 */

/** Singular and plural names of the resource kinds providers report. */
const KIND_NAMES: Readonly<Record<string, readonly [string, string]>> = {
  ec2: ['EC2 instance', 'EC2 instances'],
  asg: ['Auto Scaling group', 'Auto Scaling groups'],
  rds: ['RDS database', 'RDS databases'],
  aurora: ['Aurora cluster', 'Aurora clusters'],
  ecs: ['ECS service', 'ECS services'],
  stack: ['CloudFormation stack', 'CloudFormation stacks'],
  command: ['command target', 'command targets'],
};

export function kindName(kind: string, count: number): string {
  const [one, many] = KIND_NAMES[kind] ?? [`${kind} resource`, `${kind} resources`];
  return count === 1 ? one : many;
}

/** How many of each kind, most first (ties by kind), e.g. { ec2: 3, rds: 1 }. */
export function countKinds(kinds: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return Object.fromEntries([...counts].sort(([a, m], [b, n]) => n - m || a.localeCompare(b)));
}

/** "3 EC2 instances, 1 RDS database"; before a first discovery, says so. */
export function kindsText(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kindName(kind, n)}`);
  return parts.length === 0 ? 'resources not listed yet (found when it acts)' : parts.join(', ');
}

/** Why a run happens, from its trigger and who asked. */
export interface RunCause {
  readonly trigger: string;
  readonly direction: string;
  readonly actor: string;
  /** The environment's schedule, when it has one. */
  readonly schedule?: string | undefined;
  /** A change of plan by someone that makes the transition: a reservation or hold-on ending, a hold-off. */
  readonly planned?: PlannedCause | undefined;
}

export interface PlannedCause {
  readonly kind: 'reservation-end' | 'hold-end' | 'hold-off';
  /** Who made the reservation or the hold. */
  readonly actor: string;
}

const PLANNED: Record<PlannedCause['kind'], string> = {
  'reservation-end': 'the end of a reservation by',
  'hold-end': 'the end of a hold by',
  'hold-off': 'a hold-off by',
};

export function whyText(cause: RunCause): string {
  switch (cause.trigger) {
    case 'adhoc':
      return `ad-hoc ${cause.direction} by ${cause.actor}`;
    case 'schedule':
    case 'catch-up': {
      const late = cause.trigger === 'catch-up' ? ' (caught up late)' : '';
      if (cause.planned !== undefined)
        return `${PLANNED[cause.planned.kind]} ${cause.planned.actor}`;
      return cause.schedule === undefined
        ? `the plan${late}`
        : `schedule "${cause.schedule}"${late}`;
    }
    case 'reservation':
      return 'a reservation of these resources begins or ends';
    case 'enforce':
      return 'enforce mode: resources were found in the wrong state';
    case 'auto-restart':
      return 'a database started by itself while off';
    case 'retry':
      return 'a retry: the previous run did not reach its state';
    default:
      return cause.trigger;
  }
}
