/**
 * The warning's action links: "Keep running 1 h", "Keep running until the next
 * scheduled start", "Stop now". A link carries a token bound to its run, its
 * action and the channel it was sent to, with an expiry, signed with HMAC-SHA256
 * under a key kept in the store (made once, shared by every replica), so a link
 * cannot be forged or moved to another run. It acts once: its first use is
 * recorded in the store before anything changes, and the run must still wait in
 * its grace period. Whoever followed it is recorded as the actor of the change
 * ("link from email to ops@example.com", or the Slack user who pressed it).
 *
 * Hand-written because it is a few lines over node:crypto: a JWT library would
 * add algorithm negotiation and claims we do not need, and the single use still
 * needs the store.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Environment, Instant } from '../core/glossary.js';
import { HOUR } from '../engine/context.js';
import { CommandError } from '../engine/context.js';
import type { Engine } from '../engine/engine.js';
import type { Notice } from '../engine/ports.js';
import type { Run } from '../store/queries/runs.js';
import type { Store } from '../store/store.js';
import type { LinkAction, LinkActor, LinkOutcome, NoticeAction } from './link-actions.js';
import { LINK_ACTIONS, LINK_LABELS, LinkRefused } from './link-actions.js';
import { whenText } from './perform.js';

/** What a token says, once its signature is checked. */
export interface LinkClaims {
  readonly runId: string;
  readonly action: LinkAction;
  /** The notifier the link was sent through. */
  readonly channel: string;
  readonly expiresAt: Instant;
}

/** What a link would do, for the page that asks to confirm it. */
export interface LinkPreview {
  readonly claims: LinkClaims;
  readonly environment: string;
  readonly label: string;
  /** One sentence: what following it will do. */
  readonly effect: string;
}

export interface ActionLinksOptions {
  readonly store: Pick<Store, 'linkKey' | 'claimLinkUse' | 'linkUse' | 'releaseLinkUse' | 'getRun'>;
  /** The engine (a function: the engine's notifier adds these links, so it is built after them). */
  readonly engine: () => Pick<Engine, 'cancel' | 'command' | 'nextScheduledStart'>;
  readonly environments: ReadonlyMap<string, Environment>;
  /** The service's address people reach (config `public_url`), without a trailing slash. */
  readonly publicUrl: string;
  /** Who a channel reaches, for the actor of a followed link ("email to ops@example.com"). */
  readonly audiences: ReadonlyMap<string, string>;
  readonly now: () => Instant;
}

const STATUS_WORDS: Record<string, string> = {
  acting: 'is under way',
  succeeded: 'already happened',
  failed: 'already happened (and failed)',
  cancelled: 'was called off',
  superseded: 'was replaced by a newer change of plan',
};

/** "Keep running 1 h": an hour after the stop was due, or after now if that has passed. */
export function keepOneHourUntil(run: Pick<Run, 'act_at'>, now: Instant): Instant {
  return Math.max(run.act_at, now) + HOUR;
}

/** A "keep running" choice of a stop warning, and the instant it keeps the environment on until. */
export interface KeepRunningChoice {
  readonly action: 'keep-1h' | 'keep-until-start';
  readonly label: string;
  readonly until: Instant;
}

/**
 * The "keep running" choices a stop warning's links offer (the dashboard offers the
 * same): each cancels the stop and keeps the environment on until its instant.
 * "Until the next scheduled start" needs one (`nextStart`, within 14 days).
 */
export function keepRunningChoices(
  run: Pick<Run, 'act_at'>,
  now: Instant,
  nextStart: Instant | undefined,
): KeepRunningChoice[] {
  const choices: KeepRunningChoice[] = [
    { action: 'keep-1h', label: LINK_LABELS['keep-1h'], until: keepOneHourUntil(run, now) },
  ];
  if (nextStart !== undefined)
    choices.push({
      action: 'keep-until-start',
      label: LINK_LABELS['keep-until-start'],
      until: nextStart,
    });
  return choices;
}

export function hashLinkToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class ActionLinks implements LinkActor {
  private key: Promise<Buffer> | undefined;

  constructor(private readonly options: ActionLinksOptions) {}

  /** The links a stop warning carries to `notice.channel`; none for other notices, or the log. */
  async actionsFor(notice: Notice): Promise<NoticeAction[]> {
    if (notice.kind !== 'stop-warning' || notice.channel === undefined) return [];
    const run = await this.options.store.getRun(notice.runId);
    const environment = this.options.environments.get(notice.environment);
    if (run?.status !== 'grace' || environment === undefined) return [];
    // A stop that waits for its warning (require_notice) stays cancellable past its time.
    const expiresAt = run.act_at + (environment.requireNotice?.waitMs ?? 0);
    const offered = LINK_ACTIONS.filter((action) => this.offers(action, run));
    return Promise.all(
      offered.map(async (action) => {
        const token = await this.sign({
          runId: run.id,
          action,
          channel: notice.channel!,
          expiresAt,
        });
        return {
          action,
          label: LINK_LABELS[action],
          url: `${this.options.publicUrl}/actions?token=${token}`,
          token,
        };
      }),
    );
  }

  /**
   * "Until the next scheduled start" needs one within 14 days. "Stop now" stops the
   * whole environment, so a stop of resources reserved alone does not offer it.
   */
  private offers(action: LinkAction, run: Run): boolean {
    if (action === 'keep-until-start')
      return this.options.engine().nextScheduledStart(run.environment, run.act_at) !== undefined;
    if (action === 'stop-now') return run.target === '';
    return true;
  }

  /** The actor recorded for a link followed from a page: the channel it came through. */
  pageActor(token: string): string {
    const channel = this.decode(token)?.channel;
    const audience = channel === undefined ? undefined : this.options.audiences.get(channel);
    return `link from ${audience ?? `notifier "${channel ?? '?'}"`}`;
  }

  /** What the link would do now, or why it would do nothing (LinkRefused). Changes nothing. */
  async preview(token: string): Promise<LinkPreview> {
    const { claims, run } = await this.check(token);
    return {
      claims,
      environment: run.environment,
      label: LINK_LABELS[claims.action],
      effect: this.effectOf(claims, run),
    };
  }

  async use(token: string, actor: string): Promise<LinkOutcome> {
    const { store, now } = this.options;
    const { claims, run } = await this.check(token);
    const tokenHash = hashLinkToken(token);
    const claimed = await store.claimLinkUse({
      token_hash: tokenHash,
      run_id: run.id,
      action: claims.action,
      actor,
      used_at: now(),
    });
    if (!claimed) throw await this.usedRefusal(tokenHash);
    try {
      const said = await this.act(claims, run, actor);
      return { action: claims.action, environment: run.environment, runId: run.id, said };
    } catch (error) {
      // Nothing changed: the link stays as it was, and the answer says why.
      await store.releaseLinkUse(tokenHash);
      if (error instanceof CommandError) throw await this.refusalNow(run.id, error.message);
      throw error;
    }
  }

  private async act(claims: LinkClaims, run: Run, actor: string): Promise<string> {
    const engine = this.options.engine();
    const when = this.when(run.environment);
    switch (claims.action) {
      case 'keep-1h': {
        const until = this.keepOneHourUntil(run);
        await engine.cancel(run.id, actor, until);
        return `${run.environment} keeps running until ${when(until)}; the stop is called off`;
      }
      case 'keep-until-start': {
        const until = this.nextStart(run);
        await engine.cancel(run.id, actor, until);
        return `${run.environment} keeps running until its next scheduled start, ${when(until)}`;
      }
      case 'stop-now': {
        // An ad-hoc stop without grace: it takes the place of the run in grace, in one transaction.
        await engine.command(run.environment, 'stop', actor, 0);
        return `${run.environment} stops now`;
      }
    }
  }

  private effectOf(claims: LinkClaims, run: Run): string {
    const when = this.when(run.environment);
    switch (claims.action) {
      case 'keep-1h':
        return `call off the stop of ${run.environment} due at ${when(run.act_at)} and keep it running until ${when(this.keepOneHourUntil(run))}`;
      case 'keep-until-start':
        return `call off the stop of ${run.environment} due at ${when(run.act_at)} and keep it running until its next scheduled start, ${when(this.nextStart(run))}`;
      case 'stop-now':
        return `stop ${run.environment} now instead of at ${when(run.act_at)}`;
    }
  }

  private keepOneHourUntil(run: Run): Instant {
    return keepOneHourUntil(run, this.options.now());
  }

  private nextStart(run: Run): Instant {
    const next = this.options.engine().nextScheduledStart(run.environment, run.act_at);
    if (next === undefined)
      throw new LinkRefused(
        `${run.environment} has no scheduled start in the next 14 days; use "Keep running 1 h", or cancel the stop with an end time (lightsout cancel ${run.id} --until ...)`,
        'settled',
      );
    return next;
  }

  private when(environment: string): (at: Instant) => string {
    const zone = this.options.environments.get(environment)?.timezone ?? 'UTC';
    return (at) => whenText(at, zone, this.options.now());
  }

  /** The token's claims and its run, if the link may still act; LinkRefused otherwise. */
  private async check(token: string): Promise<{ claims: LinkClaims; run: Run }> {
    const claims = await this.verify(token);
    if (claims === undefined)
      throw new LinkRefused(
        'This link is not valid: it may be cut short or changed. Open the latest warning and use its link.',
        'invalid',
      );
    const use = await this.options.store.linkUse(hashLinkToken(token));
    if (use !== undefined) throw await this.usedRefusal(use.token_hash);
    if (claims.expiresAt <= this.options.now())
      throw new LinkRefused(
        `This link expired at ${new Date(claims.expiresAt).toISOString()}, when the stop it was for was due. Nothing was changed.`,
        'expired',
      );
    const run = await this.options.store.getRun(claims.runId);
    if (run === undefined)
      throw new LinkRefused(
        'The run this link was for no longer exists. Nothing was changed.',
        'invalid',
      );
    if (run.status !== 'grace') throw await this.refusalNow(run.id);
    if (!this.offers(claims.action, run))
      throw new LinkRefused(
        'This link does not apply to this stop. Nothing was changed.',
        'settled',
      );
    return { claims, run };
  }

  private async usedRefusal(tokenHash: string): Promise<LinkRefused> {
    const use = await this.options.store.linkUse(tokenHash);
    const by =
      use === undefined ? '' : ` by ${use.actor} at ${new Date(use.used_at).toISOString()}`;
    return new LinkRefused(
      `This link was already used${by}. A link acts once; nothing was changed.`,
      'used',
    );
  }

  /** The run no longer waits in grace: say what became of it. */
  private async refusalNow(runId: string, detail?: string): Promise<LinkRefused> {
    const run = await this.options.store.getRun(runId);
    const status = run?.status ?? 'gone';
    if (status === 'grace' && detail !== undefined)
      return new LinkRefused(`${detail}. Nothing was changed.`, 'settled');
    const words = STATUS_WORDS[status] ?? `is ${status}`;
    return new LinkRefused(
      `The stop of ${run?.environment ?? 'this environment'} this link was for ${words}, so the link no longer applies. Nothing was changed.`,
      'settled',
    );
  }

  private async sign(claims: LinkClaims): Promise<string> {
    const payload = Buffer.from(
      JSON.stringify({ r: claims.runId, a: claims.action, c: claims.channel, e: claims.expiresAt }),
    ).toString('base64url');
    const mac = createHmac('sha256', await this.signingKey())
      .update(payload)
      .digest('base64url');
    return `${payload}.${mac}`;
  }

  private async verify(token: string): Promise<LinkClaims | undefined> {
    const [payload, mac, ...rest] = token.split('.');
    if (payload === undefined || mac === undefined || rest.length > 0) return undefined;
    const expected = createHmac('sha256', await this.signingKey())
      .update(payload)
      .digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return this.decode(token);
  }

  /** The claims as written, signature unchecked (for labelling only). */
  private decode(token: string): LinkClaims | undefined {
    try {
      const raw = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()) as {
        r?: unknown;
        a?: unknown;
        c?: unknown;
        e?: unknown;
      };
      if (
        typeof raw.r !== 'string' ||
        !LINK_ACTIONS.includes(raw.a as LinkAction) ||
        typeof raw.c !== 'string' ||
        typeof raw.e !== 'number'
      )
        return undefined;
      return { runId: raw.r, action: raw.a as LinkAction, channel: raw.c, expiresAt: raw.e };
    } catch {
      return undefined;
    }
  }

  private signingKey(): Promise<Buffer> {
    this.key ??= this.options.store
      .linkKey(randomBytes(32).toString('base64url'), this.options.now())
      .then((secret) => Buffer.from(secret, 'base64url'));
    this.key.catch(() => {
      this.key = undefined;
    });
    return this.key;
  }
}
