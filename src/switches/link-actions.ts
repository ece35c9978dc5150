/**
 * The actions a shutdown warning offers, as links (email, Teams, Google Chat,
 * webhooks) or buttons (Slack): each carries a signed, expiring, single-use token
 * bound to its run (see action-links.ts).
 */

export const LINK_ACTIONS = ['keep-1h', 'keep-until-start', 'stop-now'] as const;
export type LinkAction = (typeof LINK_ACTIONS)[number];

export const LINK_LABELS: Record<LinkAction, string> = {
  'keep-1h': 'Keep running 1 h',
  'keep-until-start': 'Keep running until the next scheduled start',
  'stop-now': 'Stop now',
};

/** One action of a warning, as channels receive it in `details.actions`. */
export interface NoticeAction {
  readonly action: LinkAction;
  readonly label: string;
  /** The page that confirms and carries out the action (public_url + /actions?token=TOKEN). */
  readonly url: string;
  /** The token alone, for buttons that act without a page (Slack interactivity). */
  readonly token: string;
}

/** What a followed link did. */
export interface LinkOutcome {
  readonly action: LinkAction;
  readonly environment: string;
  readonly runId: string;
  /** One sentence for the person: what will happen and when. */
  readonly said: string;
}

/** Why a link changed nothing. */
export type RefusalReason = 'invalid' | 'expired' | 'used' | 'settled';

/** A link that cannot act; `message` is safe to show to whoever followed it. */
export class LinkRefused extends Error {
  override readonly name = 'LinkRefused';
  constructor(
    message: string,
    readonly reason: RefusalReason,
  ) {
    super(message);
  }
}

/** Carries out the action a token names, once, as `actor`; throws LinkRefused otherwise. */
export interface LinkActor {
  use(token: string, actor: string): Promise<LinkOutcome>;
}
