/** The bodies the API takes, as zod schemas: they validate requests and make the OpenAPI document. */
import { z } from 'zod';
import { parseDuration } from '../config/schema.js';

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

const duration = (field: string) =>
  z.string().transform((text, ctx) => {
    const parsed = parseDuration(text);
    if (parsed.ok) return parsed.value;
    ctx.addIssue({ code: 'custom', message: `${field}: ${parsed.error}` });
    return z.NEVER;
  });

export const stopBody = z.strictObject({ grace: duration('grace').optional() });
export const extendBody = z.strictObject({ until: z.string().min(1) });
export const boostBody = z.strictObject({ for: duration('for') });
export const cancelBody = z.strictObject({ until: z.string().min(1).optional() });
export const holdBody = z.strictObject({
  environment: z.string().min(1),
  state: z.enum(['on', 'off'], { message: 'state is on or off' }),
  from: z.string().min(1).optional(),
  until: z.string().min(1),
  note: z.string().max(500).optional(),
});
