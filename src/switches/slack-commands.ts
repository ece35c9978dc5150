/**
 * `/lightsout ...` from Slack: the text read into a command, carried out through
 * the engine as the member who typed it, answered with one ephemeral text that
 * says what will happen and when. Viewers may ask for status; everything else
 * needs the operator role. A team-scoped member's `environments` are its team's
 * only: other environments do not exist for it.
 */
import { DateTime } from 'luxon';
import type { Environment, Instant, Parsed } from '../core/glossary.js';
import { MAX_HOLD_AHEAD } from '../core/limits.js';
import { planFleet } from '../core/planner.js';
import { parseInstant } from '../core/time-text.js';
import { parseDuration } from '../config/schema.js';
import type { Engine } from '../engine/engine.js';
import { CommandError, HeldOff } from '../engine/engine.js';
import { escapeMrkdwn } from '../notify/slack.js';
import type { Role } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { perform, SwitchRefused, whenText } from './perform.js';

export type SlackCommand =
  | { readonly verb: 'help' }
  | { readonly verb: 'status'; readonly environment?: string }
  | { readonly verb: 'start' | 'cancel'; readonly environment: string }
  | { readonly verb: 'stop'; readonly environment: string; readonly grace?: number }
  | {
      readonly verb: 'reserve' | 'extend';
      readonly environment: string;
      readonly for?: number;
      readonly until?: string;
    };

export const SLACK_HELP = [
  '*/lightsout* switches environments on and off:',
  '• `status [ENV]`: what is on, and what happens next',
  '• `start ENV`: start it now (it stays on until its next scheduled change)',
  '• `stop ENV [grace 10m]`: warn, then stop it after the grace (the environment’s own by default)',
  '• `reserve ENV for 2h` or `reserve ENV until 18:00`: keep it on from now until then',
  '• `extend ENV until 20:00` (or `for 2h`): keep it on longer',
  '• `cancel ENV`: cancel its stop while it is still in its grace period',
  'Times are in the environment’s zone; a date and time such as 2026-06-02T18:00 works too.',
].join('\n');

const USAGE: Record<Exclude<SlackCommand['verb'], 'help'>, string> = {
  status: '`status [ENV]`',
  start: '`start ENV`',
  stop: '`stop ENV [grace 10m]`',
  reserve: '`reserve ENV for 2h` or `reserve ENV until 18:00`',
  extend: '`extend ENV until 20:00` or `extend ENV for 2h`',
  cancel: '`cancel ENV`',
};

const misread = (error: string): Parsed<SlackCommand> => ({ ok: false, error });

/** Reads the text after `/lightsout`; errors say how to write it. */
export function parseSlackCommand(text: string): Parsed<SlackCommand> {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb = 'help', environment, keyword, value, ...rest] = words;
  const lower = verb.toLowerCase();
  if (lower === 'help') return { ok: true, value: { verb: 'help' } };
  if (!(lower in USAGE))
    return misread(`I do not know “${verb}”; try \`/lightsout help\` for what I can do`);
  const known = lower as keyof typeof USAGE;
  const usage = `write ${USAGE[known]}`;
  if (known === 'status') {
    if (words.length > 2) return misread(`status takes one environment at most; ${usage}`);
    return {
      ok: true,
      value: environment === undefined ? { verb: known } : { verb: known, environment },
    };
  }
  if (environment === undefined) return misread(`${known} needs an environment; ${usage}`);
  if (rest.length > 0) return misread(`too many words; ${usage}`);
  switch (known) {
    case 'start':
    case 'cancel':
      if (keyword !== undefined) return misread(`${known} takes just the environment; ${usage}`);
      return { ok: true, value: { verb: known, environment } };
    case 'stop': {
      if (keyword === undefined) return { ok: true, value: { verb: known, environment } };
      if (keyword.toLowerCase() !== 'grace' || value === undefined) return misread(usage);
      const grace = parseDuration(value);
      if (!grace.ok) return misread(`grace: ${grace.error}`);
      return { ok: true, value: { verb: known, environment, grace: grace.value } };
    }
    case 'reserve':
    case 'extend': {
      const how = keyword?.toLowerCase();
      if (value === undefined || (how !== 'for' && how !== 'until')) return misread(usage);
      if (how === 'until') return { ok: true, value: { verb: known, environment, until: value } };
      const span = parseDuration(value);
      if (!span.ok || span.value <= 0)
        return misread(`for: "${value}" is not a duration such as 2h`);
      return { ok: true, value: { verb: known, environment, for: span.value } };
    }
  }
}

/**
 * `18:00` (today in `zone`) or an ISO date and time (in `zone` unless it has an
 * offset), after now.
 */
export function untilOf(text: string, zone: string, now: Instant): Parsed<Instant> {
  const clock = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (clock !== null) {
    const [hour, minute] = [Number(clock[1]), Number(clock[2])];
    if (hour > 23 || minute > 59)
      return { ok: false, error: `"${text}" is not a time of day; write one such as 18:00` };
    const at = DateTime.fromMillis(now, { zone }).set({ hour, minute, second: 0, millisecond: 0 });
    if (at.toMillis() <= now)
      return {
        ok: false,
        error: `${text} today in ${zone} has passed; give a later time, or a date and time such as ${at.plus({ days: 1 }).toFormat("yyyy-LL-dd'T'HH:mm")}`,
      };
    return { ok: true, value: at.toMillis() };
  }
  const parsed = parseInstant(text, zone);
  if (!parsed.ok)
    return {
      ok: false,
      error: `"${text}" is not a time; write one such as 18:00 or 2026-06-02T18:00`,
    };
  if (parsed.value <= now)
    return { ok: false, error: `${text} (${zone}) has passed; give a later time` };
  return parsed;
}

export interface SlackCommandDeps {
  readonly engine: Engine;
  readonly store: Store;
  /** The environments the member may see. */
  readonly environments: readonly Environment[];
  readonly now: () => Instant;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** The answer to `/lightsout TEXT` typed by a member with `role`, recorded as `actor`. */
export async function answerSlackCommand(
  deps: SlackCommandDeps,
  role: Role,
  actor: string,
  text: string,
): Promise<string> {
  const parsed = parseSlackCommand(text);
  if (!parsed.ok) return escapeMrkdwn(parsed.error);
  const command = parsed.value;
  if (command.verb === 'help') return SLACK_HELP;
  if (command.verb !== 'status' && RANK[role] < RANK.operator)
    return `${command.verb} needs the operator role; you are a ${role} here, so you may ask for \`status\` only. Ask a lightsout admin if you need more.`;
  const byName = new Map(deps.environments.map((e) => [e.name, e]));
  const name = 'environment' in command ? command.environment : undefined;
  const environment = name === undefined ? undefined : byName.get(name);
  if (name !== undefined && environment === undefined)
    return `There is no environment “${escapeMrkdwn(name)}”; \`/lightsout status\` lists yours.`;
  const now = deps.now();
  try {
    switch (command.verb) {
      case 'status':
        return await status(
          deps,
          environment === undefined ? deps.environments : [environment],
          now,
        );
      case 'start':
      case 'stop':
        return sentence(
          await perform(
            deps.engine,
            byName,
            {
              action: command.verb,
              environment: environment!.name,
              ...(command.verb === 'stop' ? { grace: command.grace } : {}),
            },
            actor,
            now,
          ),
        );
      case 'reserve': {
        const span = spanOf(command, environment!, now);
        if (!span.ok) return span.error;
        return sentence(
          await perform(
            deps.engine,
            byName,
            { action: 'reserve', environment: environment!.name, for: span.value },
            actor,
            now,
          ),
        );
      }
      case 'extend':
        return await extend(deps, environment!, command, actor, now);
      case 'cancel':
        return await cancel(deps, environment!, actor, now);
    }
  } catch (error) {
    if (error instanceof HeldOff) return heldOff(error);
    if (error instanceof SwitchRefused || error instanceof CommandError)
      return `Nothing changed: ${escapeMrkdwn(error.message)}.`;
    throw error;
  }
}

function sentence(outcome: { said: string }): string {
  return `${outcome.said}.`;
}

function spanOf(
  command: { for?: number; until?: string },
  environment: Environment,
  now: Instant,
): Parsed<number> {
  if (command.for !== undefined) return { ok: true, value: command.for };
  const until = untilOf(command.until!, environment.timezone, now);
  return until.ok ? { ok: true, value: until.value - now } : until;
}

async function extend(
  deps: SlackCommandDeps,
  environment: Environment,
  command: { for?: number; until?: string },
  actor: string,
  now: Instant,
): Promise<string> {
  const span = spanOf(command, environment, now);
  if (!span.ok) return span.error;
  if (span.value > MAX_HOLD_AHEAD.ms)
    return `An extend reaches at most ${MAX_HOLD_AHEAD.text} ahead; give an earlier time.`;
  const until = now + span.value;
  await deps.engine.extend(environment.name, until, actor);
  return `${environment.name} stays on until ${whenText(until, environment.timezone, now)}.`;
}

/** Cancels the environment's stops still in their grace period. */
async function cancel(
  deps: SlackCommandDeps,
  environment: Environment,
  actor: string,
  now: Instant,
): Promise<string> {
  const stops = (await deps.store.openRuns()).filter(
    (r) => r.environment === environment.name && r.direction === 'stop' && r.status === 'grace',
  );
  if (stops.length === 0)
    return `${environment.name} has no stop in its grace period, so there is nothing to cancel.`;
  let holdUntil = now;
  for (const run of stops) {
    const result = await deps.engine.cancel(run.id, actor);
    holdUntil = Math.max(holdUntil, result.holdUntil);
  }
  const when = (at: Instant) => whenText(at, environment.timezone, now);
  const first = Math.min(...stops.map((r) => r.act_at));
  return `${environment.name}’s stop at ${when(first)} is cancelled; it stays on until ${when(holdUntil)}.`;
}

function heldOff(error: HeldOff): string {
  const { hold } = error;
  const lift =
    hold.source === 'config'
      ? 'it comes from the config file, so it is lifted there'
      : `lift it with \`lightsout hold delete ${hold.id}\` or DELETE /api/v1/holds/${hold.id}`;
  return `Nothing changed: ${hold.environment} is held off until ${new Date(hold.until).toISOString()} by ${escapeMrkdwn(hold.actor)}, and a hold-off wins over keeping it on; ${lift}.`;
}

/** Environments listed by a status without a name, at most. */
const STATUS_LINES = 30;

async function status(
  deps: SlackCommandDeps,
  environments: readonly Environment[],
  now: Instant,
): Promise<string> {
  if (environments.length === 0) return 'You have no environments here.';
  const shown = environments.slice(0, STATUS_LINES);
  const names = shown.map((e) => e.name);
  const window = { start: now, end: now + 14 * 24 * 3_600_000 };
  const timelines = planFleet(await deps.engine.fleetFor(shown, window.start, window.end), window);
  const counts = new Map<string, string[]>();
  for (const { environment, state, count } of await deps.store.countByState(names))
    counts.set(environment, [...(counts.get(environment) ?? []), `${count} ${state}`]);
  const stops = (await deps.store.openRuns()).filter(
    (r) => names.includes(r.environment) && r.status === 'grace' && r.direction === 'stop',
  );
  const lines = shown.map((e) => {
    const when = (at: Instant) => whenText(at, e.timezone, now);
    const timeline = timelines.get(e.name);
    const next = timeline?.plan().transitions[0];
    const stop = stops.find((r) => r.environment === e.name);
    return [
      `*${e.name}*${e.team === undefined ? '' : ` (${escapeMrkdwn(e.team)})`}: ${timeline?.stateAt(now) ?? 'off'} by plan`,
      `resources: ${counts.get(e.name)?.join(', ') ?? 'not discovered yet'}`,
      next === undefined ? 'no change planned' : `next: ${next.state} at ${when(next.at)}`,
      ...(stop === undefined
        ? []
        : [`stopping at ${when(stop.act_at)} (\`/lightsout cancel ${e.name}\` keeps it on)`]),
    ].join(' · ');
  });
  const more = environments.length - shown.length;
  return [...lines, ...(more > 0 ? [`…and ${more} more: ask for one by name.`] : [])].join('\n');
}
