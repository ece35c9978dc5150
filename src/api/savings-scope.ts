/**
 * What the savings routes share: the environments a caller asked for and may see
 * (another team's environment or team is 404, as everywhere), and a window that
 * ends after it starts and is no longer than the report allows.
 */
import type { Environment, Instant } from '../core/glossary.js';
import { MAX_SAVINGS_WINDOW } from '../core/limits.js';
import type { Principal } from './auth.js';
import { canSee } from './auth.js';
import type { ApiContext } from './context.js';
import { iso } from './context.js';
import { Problem } from './problems.js';

export function environmentsAsked(
  context: ApiContext,
  principal: Principal,
  query: { readonly environment?: string | undefined; readonly team?: string | undefined },
): Environment[] {
  if (query.environment !== undefined) context.visible(principal, query.environment);
  const visible = context.deps.environments.filter((e) => canSee(principal, e.team));
  if (query.team !== undefined && !visible.some((e) => e.team === query.team))
    throw new Problem(
      404,
      'unknown-team',
      'Unknown team',
      `there is no team "${query.team}"`,
      'team',
    );
  return visible
    .filter((e) => query.environment === undefined || e.name === query.environment)
    .filter((e) => query.team === undefined || e.team === query.team);
}

/** Refuses a window that does not end after it starts, or is too long (naming `longField`). */
export function checkSavingsWindow(from: Instant, to: Instant, longField: 'from' | 'to'): void {
  if (to <= from)
    throw new Problem(
      422,
      'invalid-window',
      'Invalid window',
      `to (${iso(to)}) is not after from (${iso(from)})`,
      'to',
    );
  if (to - from > MAX_SAVINGS_WINDOW.ms)
    throw new Problem(
      422,
      'window-too-long',
      'Window too long',
      `from ${iso(from)} to ${iso(to)} is more than ${MAX_SAVINGS_WINDOW.text}; ask for a shorter window`,
      longField,
    );
}
