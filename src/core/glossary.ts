/**
 * The nouns of lightsout, as ../shared/DESIGN.md names them. Every other module,
 * the API, the UI and the docs use these words.
 *
 * - instant: a point in time, UTC epoch milliseconds. Never a local time.
 * - local time: a wall-clock reading in an IANA time zone ({@link LocalDateTime}).
 * - interval: a half-open span of instants `[start, end)`.
 * - schedule: when an environment should be on: weekly periods in a time zone, or
 *   start/stop expressions (5-field cron, EventBridge `cron()`, `at()`), minus
 *   exception days (dates, ranges, public holidays).
 * - reservation: a window `[from, to)` in which an environment must be on.
 *   Overlapping and touching reservations are a union, never a conflict.
 * - hold: an override, keep on or keep off, from an instant (or forever) until T.
 * - desired state: hold-off wins; else on if a hold-on, a reservation or the
 *   schedule says on; else off.
 * - transition: an instant where the desired state changes.
 * - plan: the state of an environment at the start of a window and its
 *   transitions inside it.
 */

/** UTC epoch milliseconds. */
export type Instant = number;

export type PowerState = 'on' | 'off';

/** The result of parsing text written by a person: a value, or an error that says how to fix it. */
export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Half-open `[start, end)`; `start < end` always holds for stored intervals. */
export interface Interval {
  readonly start: Instant;
  readonly end: Instant;
}

/** A wall-clock reading with no zone attached; months and days count from 1. */
export interface LocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second?: number;
}

/** `HH:MM` as minutes after local midnight; 1440 stands for `24:00`. */
export type MinuteOfDay = number;

/** One weekly period: on from `start` to `stop` on every matching local day. */
export interface Period {
  /** Croner day-of-week field, e.g. `MON-FRI`, `MON#1`, `FRI#L`, or `*`. */
  readonly days: string;
  /** Croner month field, e.g. `JAN-MAR`, or `*`. */
  readonly months: string;
  /** Croner day-of-month field, e.g. `1-15`, `L`, or `*`. */
  readonly monthdays: string;
  readonly start: MinuteOfDay;
  /** When `stop <= start` the period crosses midnight and ends the next day. */
  readonly stop: MinuteOfDay;
}

/** What decides the on/off state before exception days are applied. */
export type ScheduleRule =
  | { readonly kind: 'periods'; readonly periods: readonly Period[] }
  | { readonly kind: 'expressions'; readonly start: Expression; readonly stop: Expression };

/** A parsed start or stop expression, in the notation the user wrote it. */
export interface Expression {
  readonly source: string;
  readonly syntax: 'cron' | 'eventbridge-cron' | 'at';
  /** The croner pattern the expression was translated to (`at` keeps its local time). */
  readonly pattern: string;
}

/** Local days when a schedule is off all day. */
export interface Exceptions {
  /** ISO local dates `YYYY-MM-DD`. */
  readonly dates: readonly string[];
  /** Country or country-region codes such as `FR` or `DE-BY`; public holidays only. */
  readonly holidays: readonly string[];
}

export interface Schedule {
  readonly name: string;
  readonly timezone: string;
  readonly rule: ScheduleRule;
  readonly except: Exceptions;
}

export interface Reservation {
  readonly environment: string;
  readonly from: Instant;
  readonly to: Instant;
  /** One resource of the environment, reserved alone; absent or null: the whole environment. */
  readonly resource?: string | null;
}

export interface Hold {
  readonly environment: string;
  readonly state: PowerState;
  /** Absent: in force since before any window we plan. */
  readonly from?: Instant;
  readonly until: Instant;
}

/**
 * A resource's size as its provider reports it; every part is optional, as no
 * kind knows them all. `type`: an EC2 instance type, an RDS DB instance class, the
 * class an Aurora cluster's instances share. `count`: an Auto Scaling group's
 * desired capacity, an ECS service's desired count while it runs, an Aurora
 * cluster's instances. `vcpu`/`memoryGb`: an ECS task's size. `engine`: an RDS
 * or Aurora database's engine as RDS names it (`mysql`, `postgres`, `aurora-mysql`,
 * `aurora-postgresql`...); `multiAz`: whether an RDS DB instance is a Multi-AZ
 * deployment; `storageType`: an Aurora cluster's storage configuration (`aurora`
 * for Standard, `aurora-iopt1` for I/O-Optimized). Those three choose the price.
 * `capacity`: where an ECS service's tasks run, its launch type (`FARGATE`, `EC2`,
 * `EXTERNAL`, ...) or the capacity providers of its strategy (`FARGATE`,
 * `FARGATE_SPOT` or the names of Auto Scaling group providers); only tasks all on
 * `FARGATE` are priced as Fargate. `cpuArchitecture`/`os`: an ECS task
 * definition's runtime platform (`X86_64`/`ARM64`, `LINUX`/`WINDOWS_...`).
 */
export interface ResourceSize {
  readonly type?: string | undefined;
  readonly count?: number | undefined;
  readonly vcpu?: number | undefined;
  readonly memoryGb?: number | undefined;
  readonly engine?: string | undefined;
  readonly multiAz?: boolean | undefined;
  readonly storageType?: string | undefined;
  readonly capacity?: readonly string[] | undefined;
  readonly cpuArchitecture?: string | undefined;
  readonly os?: string | undefined;
}

/** Where to find resources: a provider, the kinds wanted, and tags they must all carry. */
export interface Selector {
  readonly provider: string;
  readonly kinds?: readonly string[];
  readonly tags?: Readonly<Record<string, string>>;
  /** Provider-specific settings (command targets, later AWS accounts and regions), validated by the config. */
  readonly settings?: Readonly<Record<string, unknown>>;
}

/** Resources that act together; an environment starts tier by tier and stops in reverse. */
export interface Tier {
  readonly name: string;
  readonly select: readonly Selector[];
}

/**
 * `transitions` acts only at transitions (a person who starts a machine at night is
 * not fought); `enforce` also corrects resources found in the wrong state.
 */
export type Mode = 'transitions' | 'enforce';

/** What happens to the following tiers when one fails. */
export type OnFailure = 'halt' | 'continue';

export interface Environment {
  readonly name: string;
  readonly timezone: string;
  readonly team?: string;
  /** Absent: the environment is off unless a reservation or a hold says on. */
  readonly schedule?: string;
  readonly mode?: Mode;
  /** Warning before a stop, in milliseconds (default 15 minutes; 0 allowed). */
  readonly graceMs?: number;
  /** The longest reservation the API takes (default 14 days). */
  readonly maxReservationMs?: number;
  readonly onFailure?: OnFailure;
  readonly tiers?: readonly Tier[];
  /** Names of the channels its warnings and run reports go to (none: the log only). */
  readonly notify?: readonly string[];
  /**
   * A stop waits until one channel accepted its warning, at most `noticeWaitMs`
   * past its time (then it stops anyway and says so).
   */
  readonly requireNotice?: { readonly waitMs: number };
  /** How its savings are counted (config `savings`): a baseline schedule, prices that override the table's. */
  readonly savings?: SavingsSettings;
}

export interface SavingsSettings {
  /** The schedule the team followed before lightsout; absent: always on. */
  readonly baseline?: string | undefined;
  /** USD per hour for each resource without a price of its own. */
  readonly hourly?: number | undefined;
  /** USD per hour by resource name. */
  readonly resources?: Readonly<Record<string, number>> | undefined;
  /** A fraction off the price table. */
  readonly discount?: number | undefined;
}

export interface Transition {
  readonly at: Instant;
  readonly state: PowerState;
}

/** The desired state at `window.start` and every change of state inside the window. */
export interface Plan {
  readonly window: Interval;
  readonly initial: PowerState;
  /** In time order, alternating, strictly after `window.start` and before `window.end`. */
  readonly transitions: readonly Transition[];
}
