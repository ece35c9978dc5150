/**
 * The Slack app of `switches.slack`, built once when the service starts: its
 * request verifier, its members, the links its buttons follow, and where it may
 * post an answer. Secrets are resolved here, so a missing one stops the start
 * with one line naming the field.
 */
import type { Instant } from '../core/glossary.js';
import type { SlackAppDocument } from '../config/schema.js';
import type { SecretSources } from '../notify/secrets.js';
import { isSecretReference, resolveSecret } from '../notify/secrets.js';
import type { LinkActor } from './link-actions.js';
import { SlackRequestVerifier } from './slack-signature.js';
import { SlackUsers, usersInfoLookup } from './slack-users.js';

/**
 * Follows a button's action token (ActionLinks is one); `preview` says, changing
 * nothing, which environment a token acts on, so a team-scoped member is refused
 * another team's warning before anything happens.
 */
export interface SlackLinks extends LinkActor {
  preview(token: string): Promise<{ readonly environment: string }>;
}

export interface SlackApp {
  readonly verifier: SlackRequestVerifier;
  readonly users: SlackUsers;
  /** Follows buttons' action tokens; without it (no public_url), buttons say how to act instead. */
  readonly links?: SlackLinks | undefined;
  /** Whether a payload's response_url may be posted to (Slack's own hosts only). */
  readonly responseUrlAllowed: (url: string) => boolean;
  /** Refused requests and failed answers; fields never hold a secret. */
  readonly log: (fields: Record<string, unknown>, message: string) => void;
}

/**
 * Slack's response URLs are on hooks.slack.com (hooks.slack-gov.com for GovSlack):
 * the payload is signed, so this only keeps a bug from posting elsewhere.
 */
export function isSlackResponseUrl(url: string): boolean {
  return /^https:\/\/hooks\.slack(-gov)?\.com\//.test(url);
}

export interface SlackAppOptions {
  readonly links?: SlackLinks | undefined;
  readonly log?: SlackApp['log'];
  /** Real time by default: Slack's request timestamps are wall-clock, whatever a demo's clock says. */
  readonly now?: () => Instant;
  readonly sources?: SecretSources;
  /** The Web API base URL for users.info (tests). */
  readonly slackApiUrl?: string;
  readonly responseUrlAllowed?: (url: string) => boolean;
}

export function slackAppOf(document: SlackAppDocument, options: SlackAppOptions = {}): SlackApp {
  const now = options.now ?? Date.now;
  const secret = (value: string, field: string) =>
    resolveSecret(value, `switches.slack.${field}`, options.sources);
  const token = document.token === undefined ? undefined : secret(document.token, 'token');
  return {
    verifier: new SlackRequestVerifier(secret(document.signing_secret, 'signing_secret'), now),
    users: new SlackUsers(
      document.users,
      token === undefined ? undefined : usersInfoLookup(token, options.slackApiUrl),
      now,
    ),
    links: options.links,
    responseUrlAllowed: options.responseUrlAllowed ?? isSlackResponseUrl,
    log: options.log ?? (() => undefined),
  };
}

/** The Slack app's secrets written inline in the config, for `lint` (values never printed). */
export function inlineSlackSecrets(
  document: SlackAppDocument | undefined,
): { path: string[]; message: string }[] {
  if (document === undefined) return [];
  return (['signing_secret', 'token'] as const).flatMap((field) => {
    const value = document[field];
    return value === undefined || isSecretReference(value)
      ? []
      : [
          {
            path: ['switches', 'slack', field],
            message: `${field} is a secret written inline, so it goes wherever this file goes; write \${VARIABLE} or file:/path instead`,
          },
        ];
  });
}
