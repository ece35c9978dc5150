/**
 * What a hook's message asks for: the hook's one `do`, or the action its `when`
 * names for the value of the message's top-level `field` (an IoT button's
 * `clickType`: SINGLE, DOUBLE, LONG). A plain-text message (an SNS message need
 * not be JSON) is itself the value.
 */
import type { SwitchActionDocument } from '../config/schema.js';
import type { SwitchRequest } from './perform.js';

/** How a hook picks its action, as the config gives it (`switches.hooks.NAME`). */
export interface HookMapping {
  readonly do?: SwitchActionDocument | undefined;
  readonly field?: string | undefined;
  readonly when?: Readonly<Record<string, SwitchActionDocument>> | undefined;
}

/** A message that names no action; `message` is safe to show to its sender. */
export class UnmappedMessage extends Error {
  override readonly name = 'UnmappedMessage';
  constructor(
    message: string,
    /** The message's field at fault, when the hook reads one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

export function requestOf(mapping: HookMapping, message: string): SwitchRequest {
  if (mapping.do !== undefined) return switchRequest(mapping.do);
  const field = mapping.field ?? '';
  const when = mapping.when ?? {};
  const known = Object.keys(when);
  const value = valueOf(message, field);
  const action = Object.hasOwn(when, value ?? '') ? when[value!] : undefined;
  if (value === undefined || action === undefined)
    throw new UnmappedMessage(
      `${field}: ${value === undefined ? 'the message has no such field' : `"${clip(value)}" maps to no action`}; ` +
        `this hook knows ${known.map((k) => `"${k}"`).join(', ')}`,
      field,
    );
  return switchRequest(action);
}

/**
 * The field's value as text (a number or a boolean too); a message that is not
 * a JSON object is its own value, trimmed.
 */
function valueOf(message: string, field: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return message.trim();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return typeof parsed === 'string' ? parsed.trim() : message.trim();
  const value = Object.hasOwn(parsed, field)
    ? (parsed as Record<string, unknown>)[field]
    : undefined;
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
    ? String(value)
    : undefined;
}

function switchRequest(action: SwitchActionDocument): SwitchRequest {
  return {
    action: action.action,
    environment: action.environment,
    ...(action.grace === undefined ? {} : { grace: action.grace }),
    ...(action.for === undefined ? {} : { for: action.for }),
  };
}

/** A value echoed in an answer stays short: it comes from whoever sent the message. */
function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}
