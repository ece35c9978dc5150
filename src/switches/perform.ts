/**
 * What a switch asks for (a hook's message, a Slack command, a button), carried
 * out through the engine like any other change of plan, with its actor recorded.
 * Answers one sentence that says what will happen and when, in the environment's
 * zone and in UTC; refusals say why (an engine refusal, a hold-off).
 */
import type { Environment, Instant } from '../core/glossary.js';
import { MAX_BOOST } from '../core/limits.js';
import { whenText } from '../core/time-text.js';
import { CommandError, HOUR } from '../engine/context.js';
import type { Engine } from '../engine/engine.js';

const DEFAULT_MAX_RESERVATION = 14 * 24 * HOUR;

export interface SwitchRequest {
  readonly action: 'start' | 'stop' | 'reserve' | 'boost';
  readonly environment: string;
  /** stop: the warning before it acts (default: the environment's grace). */
  readonly grace?: number | undefined;
  /** reserve, boost: how long. */
  readonly for?: number | undefined;
}

export interface SwitchOutcome {
  readonly said: string;
  readonly runId?: string;
}

/** A switch that cannot be carried out; `message` is safe to show to whoever pressed it. */
export class SwitchRefused extends Error {
  override readonly name = 'SwitchRefused';
}

/** Kept here for the switches that import it from this module. */
export { whenText };

export async function perform(
  engine: Engine,
  environments: ReadonlyMap<string, Environment>,
  request: SwitchRequest,
  actor: string,
  now: Instant,
): Promise<SwitchOutcome> {
  const environment = environments.get(request.environment);
  if (environment === undefined)
    throw new SwitchRefused(`there is no environment "${request.environment}"`);
  const when = (at: Instant) => whenText(at, environment.timezone, now);
  try {
    switch (request.action) {
      case 'start': {
        const run = await engine.command(environment.name, 'start', actor);
        return { said: `${environment.name} starts now`, runId: run.id };
      }
      case 'stop': {
        const run = await engine.command(environment.name, 'stop', actor, request.grace);
        const at = run.act_at <= now ? 'now' : `at ${when(run.act_at)}`;
        return { said: `${environment.name} stops ${at}`, runId: run.id };
      }
      case 'reserve': {
        const longest = environment.maxReservationMs ?? DEFAULT_MAX_RESERVATION;
        if (forOf(request) > longest)
          throw new SwitchRefused(
            `${environment.name} takes reservations of at most ${longest / HOUR} h (max_reservation); ask for less`,
          );
        const to = now + forOf(request);
        await engine.reserve(environment.name, now, to, actor);
        return { said: `${environment.name} is reserved: on now until ${when(to)}` };
      }
      case 'boost': {
        if (forOf(request) > MAX_BOOST.ms)
          throw new SwitchRefused(`a boost lasts at most ${MAX_BOOST.text}; ask for less`);
        const run = await engine.boost(environment.name, forOf(request), actor);
        return {
          said: `${environment.name} is boosted until ${when(now + forOf(request))}`,
          runId: run.id,
        };
      }
    }
  } catch (error) {
    if (error instanceof CommandError) throw new SwitchRefused(error.message);
    throw error;
  }
}

function forOf(request: SwitchRequest): number {
  if (request.for === undefined || request.for <= 0)
    throw new SwitchRefused(`${request.action} needs a duration, e.g. for: 2h`);
  return request.for;
}
