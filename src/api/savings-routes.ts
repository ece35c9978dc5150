/**
 * `GET /api/v1/savings`: the savings report of `lightsout savings` (hours off and
 * saved, money, energy and carbon, per environment and period) over the
 * environments the caller may see.
 */
import type { FastifyInstance } from 'fastify';
import { savingsReport } from '../savings/report.js';
import type { ApiContext } from './context.js';
import { parseQuery, timeOf } from './context.js';
import { checkSavingsWindow, environmentsAsked } from './savings-scope.js';
import { savingsQuery } from './queries.js';

const DEFAULT_SPAN = 30 * 86_400_000;

export function registerSavings(http: FastifyInstance, context: ApiContext): void {
  const { deps } = context;
  http.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/api/v1/savings',
    async (request) => {
      const principal = await context.caller(request);
      const query = parseQuery(savingsQuery, request.query);
      const environments = environmentsAsked(context, principal, query);
      const to = query.to === undefined ? deps.now() : timeOf(query.to, 'UTC', 'to');
      const from = query.from === undefined ? to - DEFAULT_SPAN : timeOf(query.from, 'UTC', 'from');
      checkSavingsWindow(from, to, 'from');
      return savingsReport(deps.store, {
        window: { start: from, end: to },
        by: query.by,
        environments,
        schedules: deps.schedules,
      });
    },
  );
}
