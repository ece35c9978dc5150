/**
 * The query strings the API reads, one zod schema per route: they validate
 * requests (`parseQuery`) and declare the parameters in /openapi.json, so the
 * document lists exactly what the routes read. Unknown parameters are refused,
 * as unknown body fields are.
 */
import { z } from 'zod';

const text = (description: string) => z.string().min(1).describe(description).optional();
const time = (description: string) =>
  text(`${description}: ISO 8601, UTC unless it carries an offset, e.g. 2026-06-01T08:00Z`);
const limit = (max: number, fallback: number) =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(fallback)
    .describe(`how many to answer, 1 to ${max}`);
const environment = text('only this environment');

export const reservationsQuery = z.strictObject({
  environment,
  team: text("only this team's environments"),
  from: time('reservations that end after this; default now'),
  to: time('reservations that begin before this'),
});

export const savingsQuery = z.strictObject({
  environment,
  team: text("only this team's environments"),
  from: time('from this instant; default 30 days before `to`'),
  to: time('until this instant; default now'),
  by: z
    .enum(['day', 'week', 'month'], { message: 'by is day, week or month' })
    .describe("also per day, week or month, in each environment's zone")
    .optional(),
});

export const runsQuery = z.strictObject({ environment, limit: limit(500, 50) });

export const holdsQuery = z.strictObject({ environment });

export const eventsQuery = z.strictObject({
  environment,
  resource: text('only events of this resource id'),
  kind: text('only events of this kind, e.g. run.created'),
  actor: text('only events by this actor, e.g. api:ci'),
  since: time('events at or after this'),
  until: time('events before this'),
  // A cursor this API gives is base64url of an event id, at most 26 characters for
  // ids up to 18 digits; longer text is none of ours, and would reach the database
  // as a number over its 64-bit integers.
  after: z
    .string()
    .regex(
      /^[\w-]{1,26}$/,
      'not a cursor from a previous page; leave it out to start from the first event',
    )
    .describe('the cursor `next` of the previous page')
    .optional(),
  limit: limit(1000, 100),
});

export const savingsProjectionQuery = z.strictObject({
  environment,
  team: text("only this team's environments"),
  from: time('from this instant; default now'),
  to: time('until this instant; default 30 days after `from`'),
  schedule: text('propose this schedule of the config, by name'),
  days: text('propose office hours on these days, e.g. mon-fri (with start and stop)'),
  start: text(
    'with days, the time it starts, e.g. 07:00; without, a start expression, e.g. cron(0 7 ? * MON-FRI *)',
  ),
  stop: text(
    'with days, the time it stops, e.g. 19:00; without, a stop expression, e.g. cron(0 19 ? * MON-FRI *)',
  ),
  timezone: text("the zone of the proposed days and times; default each environment's own"),
});

export const timelineQuery = z.strictObject({
  from: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, 'from is a date such as 2026-12-01')
    .describe("the first day, in the environment's zone; default yesterday")
    .optional(),
  days: z.coerce.number().int().min(1).max(31).default(7).describe('how many days, 1 to 31'),
});
