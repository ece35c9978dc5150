/**
 * `GET /api/v1/savings`: the savings report of `lightsout savings` (hours off and
 * saved, money, energy and carbon, per environment and period) over the
 * environments the caller may see.
 */
import type { FastifyInstance } from 'fastify';
import { MAX_SAVINGS_WINDOW } from '../core/limits.js';
import { savingsReport } from '../savings/report.js';
import { canSee } from './auth.js';
import type { ApiContext } from './context.js';
import { iso, parseQuery, timeOf } from './context.js';
import { Problem } from './problems.js';
import { savingsQuery } from './queries.js';

const DEFAULT_SPAN = 30 * 86_400_000;

export function registerSavings(http: FastifyInstance, context: ApiContext): void {
  const { deps } = context;
  http.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/api/v1/savings',
    async (request) => {
      const principal = await context.caller(request);
      const query = parseQuery(savingsQuery, request.query);
      if (query.environment !== undefined) context.visible(principal, query.environment);
      const visible = deps.environments.filter((e) => canSee(principal, e.team));
      if (query.team !== undefined && !visible.some((e) => e.team === query.team))
        throw new Problem(
          404,
          'unknown-team',
          'Unknown team',
          `there is no team "${query.team}"`,
          'team',
        );
      const to = query.to === undefined ? deps.now() : timeOf(query.to, 'UTC', 'to');
      const from = query.from === undefined ? to - DEFAULT_SPAN : timeOf(query.from, 'UTC', 'from');
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
          'from',
        );
      const environments = visible
        .filter((e) => query.environment === undefined || e.name === query.environment)
        .filter((e) => query.team === undefined || e.team === query.team);
      return savingsReport(deps.store, {
        window: { start: from, end: to },
        by: query.by,
        environments,
        schedules: deps.schedules,
      });
    },
  );
}
