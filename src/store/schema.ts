/**
 * The tables of the store, as Kysely sees them. Instants are UTC epoch
 * milliseconds in BIGINT columns; JSON is stored as text so both databases
 * read it the same way.
 */
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Where a row came from: the config file (replaced on every sync) or the API/CLI (never touched by a sync). */
export type Source = 'config' | 'api';

export interface EnvironmentTable {
  name: string;
  team: string | null;
  timezone: string;
  schedule: string | null;
  /** The environment's definition (mode, grace, tiers...) as JSON. */
  definition: string;
  source: Source;
  updated_at: number;
}

export interface ResourceTable {
  id: string;
  environment: string | null;
  provider: string;
  kind: string;
  name: string;
  tags: string;
  last_state: string | null;
  /** What a stop saved to bring the resource back (a capacity, a desired count), as JSON. */
  restore: string | null;
  /** What discovery read of its size (ResourceSize), as JSON. */
  size: string | null;
  updated_at: number;
}

export interface ReservationTable {
  id: string;
  environment: string;
  resource: string | null;
  from_at: number;
  to_at: number;
  source: Source;
  actor: string;
  note: string | null;
  created_at: number;
}

export interface HoldTable {
  id: string;
  environment: string;
  state: 'on' | 'off';
  from_at: number | null;
  until_at: number;
  source: Source;
  actor: string;
  note: string | null;
  created_at: number;
}

/** A boost (ecs) scales out for a while, then lets autoscaling bring the count back. */
export type RunDirection = 'start' | 'stop' | 'boost';
export type StepAction = 'start' | 'stop' | 'boost' | 'unboost';
/** superseded: the plan changed before or while it acted; the next run takes it from there. */
export type RunStatus = 'grace' | 'acting' | 'succeeded' | 'failed' | 'cancelled' | 'superseded';

export interface RunTable {
  id: string;
  environment: string;
  direction: RunDirection;
  /** The transition instant this run carries out; with environment and direction, the idempotency key. */
  due_at: number;
  /** `reservation`: resources reserved alone, started or stopped apart from their environment. */
  trigger:
    | 'schedule'
    | 'adhoc'
    | 'catch-up'
    | 'enforce'
    | 'auto-restart'
    | 'reservation'
    /** The previous run for the same applied state did not reach it. */
    | 'retry';
  status: RunStatus;
  /** When the grace period ends and the act phase may begin. */
  act_at: number;
  actor: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
  /** Replica holding the run; a lease that expired may be taken over. */
  lease_owner: string | null;
  lease_until: number | null;
  summary: string | null;
  /** JSON array of the resource ids the run acts on; null for all of the environment's. */
  scope: string | null;
  /** A boost: when it ends. */
  until_at: number | null;
  /** What the run carries out: '' for its whole environment, else the one resource reserved alone. */
  target: string;
  /** The target's applied-state sequence this run carries out; null for runs made before 0006. */
  seq: number | null;
  /** Fencing token: bumped whenever a replica takes the lease; every write of the run checks it. */
  lease_epoch: number;
  /** The target's applied state before this run: what it goes back to if the run never acts. */
  prior_state: 'on' | 'off' | null;
  /** 1 when that state had been reached (its run succeeded); 0 when a run was still on its way to it. */
  prior_reached: number | null;
}

/**
 * The applied state of a target: what lightsout last committed to bring about.
 * `follow` (resources reserved alone only): the resource goes with its environment.
 */
export interface AppliedStateTable {
  environment: string;
  /** '' for the whole environment, else a resource reserved alone. */
  resource: string;
  state: 'on' | 'off' | 'follow';
  /** Advanced by compare-and-set on every change of plan; runs are keyed by it. */
  seq: number;
  run_id: string | null;
  /** Runs in a row that did not reach the state; a retry is due at retry_at. */
  failures: number;
  retry_at: number | null;
  actor: string;
  updated_at: number;
}

export type NoticeStatus = 'pending' | 'sent' | 'failed';

/** A notice owed by a run (its stop warning, its summary): recorded with the run, sent once. */
export interface RunNoticeTable {
  id: Generated<number>;
  run_id: string;
  kind: 'stop-warning' | 'run-summary' | 'run-failed' | 'resource-restarted';
  status: NoticeStatus;
  attempts: number;
  next_at: number;
  environment: string;
  team: string | null;
  /** The notice as JSON (text and details). */
  body: string;
  error: string | null;
  sent_at: number | null;
  /** The configured notifier it goes to; '' for the log. */
  channel: Generated<string>;
}

export interface EngineStateTable {
  key: string;
  value: number;
}

/**
 * pending: not acted yet (or a transient error to retry); acted / already: the provider
 * accepted, or found it already there, and verification is due; done: verified;
 * failed: with the reason; skipped: an earlier tier failed and the environment halts.
 */
export type StepStatus = 'pending' | 'acted' | 'already' | 'done' | 'failed' | 'skipped';

export interface RunStepTable {
  id: Generated<number>;
  run_id: string;
  tier: number;
  resource: string;
  /** start, stop; a boost's two steps: boost (scale out), unboost (let it scale in again). */
  action: StepAction;
  status: StepStatus;
  attempts: number;
  error: string | null;
  started_at: number | null;
  finished_at: number | null;
}

export interface EventTable {
  id: Generated<number>;
  at: number;
  actor: string;
  environment: string | null;
  resource: string | null;
  kind: string;
  run_id: string | null;
  payload: string;
}

export interface IdempotencyKeyTable {
  key: string;
  created_at: number;
  response: string | null;
}

export interface SandboxResourceTable {
  id: string;
  kind: string;
  name: string;
  tags: string;
  state: 'on' | 'off' | 'starting' | 'stopping';
  capacity: number;
  /** The capacity to restore on start (asg, ecs). */
  on_capacity: number;
  /** When a transitional state settles. */
  settles_at: number | null;
  /** The instance type it stands for (config `sandbox.resources[].type`). */
  type: string | null;
  updated_at: number;
}

export interface Database {
  environments: EnvironmentTable;
  resources: ResourceTable;
  reservations: ReservationTable;
  holds: HoldTable;
  runs: RunTable;
  applied_states: AppliedStateTable;
  run_notices: RunNoticeTable;
  engine_state: EngineStateTable;
  run_steps: RunStepTable;
  events: EventTable;
  idempotency_keys: IdempotencyKeyTable;
  sandbox_resources: SandboxResourceTable;
  tokens: TokenTable;
  link_keys: LinkKeyTable;
  link_uses: LinkUseTable;
  forward_cursors: ForwardCursorTable;
  power_state: PowerStateTable;
  power_intervals: PowerIntervalTable;
  token_buckets: TokenBucketTable;
}

/** A client-side token bucket shared by replicas (core/token-bucket.ts, queries/buckets.ts). */
export interface TokenBucketTable {
  /** Scope and name, e.g. `aws|123456789012|eu-west-3|ec2:StopInstances:instances`. */
  bucket: string;
  tokens: number;
  /** Refilling at `slow_factor` × the rate until then, after a throttled answer. */
  slow_until: number;
  slow_factor: number;
  /** The instant `tokens` was counted at (the taking replica's clock). */
  updated_at: number;
}

/** Per forwarding destination, the last event sent to it (see forward/forwarder.ts). */
export interface ForwardCursorTable {
  /** The destination's type and address, e.g. `sns:arn:aws:sns:...`. */
  destination: string;
  last_event_id: number;
  updated_at: number;
  /** The replica forwarding to it now, until `lease_until` (its own clock). */
  owner: string | null;
  lease_until: number | null;
}

/** The key action links are signed with (one row, made on first use). */
export interface LinkKeyTable {
  id: string;
  secret: string;
  created_at: number;
}

/** An action link followed: once per link, whoever followed it. */
export interface LinkUseTable {
  /** SHA-256 of the link's token, hex. */
  token_hash: string;
  run_id: string;
  action: string;
  actor: string;
  used_at: number;
}

export type LinkUseRow = Selectable<LinkUseTable>;

export type Role = 'viewer' | 'operator' | 'admin';

export interface TokenTable {
  id: string;
  name: string;
  role: Role;
  /** Limits the token to one team's environments. */
  team: string | null;
  /** SHA-256 of the token, hex; the token itself is never stored. */
  hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export type TokenRow = Selectable<TokenTable>;

export type EventRow = Selectable<EventTable>;
export type NewEvent = Insertable<EventTable>;
export type RunRow = Selectable<RunTable>;
export type RunStepRow = Selectable<RunStepTable>;
export type AppliedStateRow = Selectable<AppliedStateTable>;
export type RunNoticeRow = Selectable<RunNoticeTable>;
export type ReservationRow = Selectable<ReservationTable>;
export type HoldRow = Selectable<HoldTable>;
export type SandboxResourceRow = Selectable<SandboxResourceTable>;
export type { ColumnType };

/** Per environment and resource, whether it is off now (see queries/power.ts). */
export interface PowerStateTable {
  environment: string;
  resource_id: string;
  /** When it turned off; null while on. */
  off_since: number | null;
  /** Off time (ms) of its closed intervals. */
  off_total: number;
}

/** Each time a resource was off, in the environment that stopped it. */
export interface PowerIntervalTable {
  environment: string;
  resource_id: string;
  off_from: number;
  /** null while still off. */
  off_to: number | null;
  /** Off time (ms) of the unit's intervals before this one. */
  off_before: number;
}
