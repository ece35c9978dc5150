/** The bodies the API takes, as zod schemas: they validate requests and make the OpenAPI document. */
import { z } from 'zod';
import { parseDuration } from '../config/schema.js';
import type { IssueProblem } from './context.js';
import type { Limit } from '../core/limits.js';
import { MAX_BOOST, MAX_GRACE } from '../core/limits.js';

export const reservationBody = z.strictObject({
  environment: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  timezone: z.string().optional(),
  note: z.string().max(500).optional(),
  /** One resource of the environment (its id), reserved alone. */
  resource: z.string().min(1).optional(),
});

export const provisionBody = z.strictObject({
  ec2_instances_id: z.string().min(1),
  start_time: z.string().min(1),
  end_time: z.string().min(1),
  timezone: z.string().optional(),
});

/** A duration such as 15m, at most `max`: over it is 422 `duration-too-long`, naming the field and the bound. */
const duration = (max: Limit) =>
  z
    .string()
    .describe(`a duration such as 15m, 90s or 1h; at most ${max.text}`)
    .transform((text, ctx) => {
      const parsed = parseDuration(text);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.error });
        return z.NEVER;
      }
      if (parsed.value > max.ms) {
        const problem: IssueProblem = {
          status: 422,
          type: 'duration-too-long',
          title: 'Duration too long',
        };
        ctx.addIssue({
          code: 'custom',
          message: `"${text}" is over the maximum of ${max.text}; give at most ${max.text}`,
          params: problem,
        });
        return z.NEVER;
      }
      return parsed.value;
    });

export const stopBody = z.strictObject({ grace: duration(MAX_GRACE).optional() });
export const extendBody = z.strictObject({ until: z.string().min(1) });
export const boostBody = z.strictObject({ for: duration(MAX_BOOST) });
export const cancelBody = z.strictObject({ until: z.string().min(1).optional() });
export const holdBody = z.strictObject({
  environment: z.string().min(1),
  state: z.enum(['on', 'off'], { message: 'state is on or off' }),
  from: z.string().min(1).optional(),
  until: z.string().min(1),
  note: z.string().max(500).optional(),
});

/** `POST /api/v1/session`: an API token, or the one-time code of the demo's sign-in link. */
export const sessionBody = z
  .strictObject({
    token: z.string().min(1).max(200).optional().describe('an API token (lightsout token create)'),
    code: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("the one-time code of the demo's sign-in link"),
  })
  .refine((b) => (b.token === undefined) !== (b.code === undefined), {
    message: 'give either token or code',
  });
