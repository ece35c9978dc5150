/**
 * The Slack app's request URLs: `POST /hooks/slack/commands` (the `/lightsout`
 * slash command) and `POST /hooks/slack/interactions` (the buttons of our
 * warnings). Both are form-encoded and signed by Slack over the raw body, so
 * they are registered in a scope of their own that keeps the body as text.
 *
 * Slack shows its own raw error for anything but a 200 within 3 seconds
 * (https://api.slack.com/interactivity/slash-commands#responding_to_commands),
 * so every answer is a 200 with a readable ephemeral text, refusals too; only a
 * request that is not Slack's (bad signature) gets a 401. A command is answered
 * in the response itself: the engine's commands are one transaction each, well
 * within the limit. A button's outcome is posted to the payload's response_url
 * (https://api.slack.com/interactivity/handling#message_responses) after the
 * 200, so a slow post never makes Slack time out.
 */
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { escapeMrkdwn, SLACK_BUTTON_PREFIX } from '../notify/slack.js';
import type { SlackApp } from '../switches/slack-app.js';
import { answerSlackCommand } from '../switches/slack-commands.js';
import { LinkRefused } from '../switches/link-actions.js';
import type { SlackMember } from '../switches/slack-users.js';
import { SlackLookupFailed } from '../switches/slack-users.js';
import type { ApiDeps } from './context.js';
import { Problem } from './problems.js';

/** A response_url gets this long to take the answer. */
const RESPONSE_TIMEOUT_MS = 5_000;

const ephemeral = (text: string) => ({ response_type: 'ephemeral' as const, text });

/** The routes as a plugin: registered, they get a scope of their own (its body parser). */
export function slackRoutes(deps: ApiDeps, app: SlackApp): FastifyPluginCallback {
  return (scope, _options, done) => {
    registerSlack(scope, deps, app);
    done();
  };
}

function registerSlack(http: FastifyInstance, deps: ApiDeps, app: SlackApp): void {
  // Only form bodies, kept as text: the signature is over the bytes as sent.
  http.removeAllContentTypeParsers();
  http.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, body);
    },
  );

  /** The form, once Slack's signature is checked; a 401 otherwise. */
  const signedForm = (request: FastifyRequest, route: string): URLSearchParams => {
    const header = (name: string) => {
      const value = request.headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const body = typeof request.body === 'string' ? request.body : '';
    const check = app.verifier.verify(
      header('x-slack-request-timestamp'),
      header('x-slack-signature'),
      body,
    );
    if (!check.ok) {
      app.log({ route, reason: check.reason, ip: request.ip }, 'Slack request refused');
      throw new Problem(
        401,
        'invalid-slack-signature',
        'Invalid Slack signature',
        `not a request from the Slack app: ${check.reason}`,
      );
    }
    return new URLSearchParams(body);
  };

  /** Who is calling, or the polite refusal to answer them. */
  const memberOf = async (
    userId: string,
  ): Promise<{ member: SlackMember } | { refusal: string }> => {
    if (!/^[UW][A-Z0-9]{1,30}$/.test(userId))
      return { refusal: 'Slack did not say who you are, so lightsout cannot act for you.' };
    try {
      const member = await app.users.who(userId);
      if (member !== undefined) return { member };
      return {
        refusal: `Sorry, lightsout does not know you yet (Slack user ${userId}). Ask a lightsout admin to add your user id or your email under \`switches.slack.users\` in its config.`,
      };
    } catch (error) {
      if (!(error instanceof SlackLookupFailed)) throw error;
      app.log({ userId, error: error.message }, 'Slack user lookup failed');
      return {
        refusal: `lightsout could not check who you are with Slack (${error.message}); try again in a moment.`,
      };
    }
  };

  const visibleTo = (member: SlackMember) =>
    deps.environments.filter((e) => member.team === null || e.team === member.team);

  http.post('/hooks/slack/commands', async (request, reply) => {
    const form = signedForm(request, 'commands');
    const userId = form.get('user_id') ?? '';
    const actor = actorOf(form.get('user_name'), userId);
    try {
      const who = await memberOf(userId);
      if ('refusal' in who) return ephemeral(who.refusal);
      const text = await answerSlackCommand(
        {
          engine: deps.engine,
          store: deps.store,
          environments: visibleTo(who.member),
          now: deps.now,
        },
        who.member.role,
        actor,
        form.get('text') ?? '',
      );
      return ephemeral(text);
    } catch (error) {
      return ephemeral(failed(app, reply, error));
    }
  });

  http.post('/hooks/slack/interactions', async (request, reply) => {
    const form = signedForm(request, 'interactions');
    const payload = payloadOf(form.get('payload'));
    // Only our buttons; anything else Slack sends here is acknowledged and left alone.
    const pressed = payload?.actions.find((a) => a.actionId.startsWith(SLACK_BUTTON_PREFIX));
    if (payload === undefined || pressed === undefined) return reply.code(200).send();
    let text: string;
    try {
      text = await answerButton(payload, pressed);
    } catch (error) {
      text = failed(app, reply, error);
    }
    await reply.code(200).send();
    const url = payload.responseUrl;
    if (url === undefined || !app.responseUrlAllowed(url)) {
      app.log(
        { route: 'interactions' },
        'Slack payload without a Slack response_url: not answered',
      );
      return reply;
    }
    void postAnswer(url, text).catch((error: unknown) => {
      app.log(
        { route: 'interactions', error: error instanceof Error ? error.message : String(error) },
        'Slack answer not delivered',
      );
    });
    return reply;
  });

  async function answerButton(payload: Interaction, pressed: PressedButton): Promise<string> {
    const who = await memberOf(payload.userId);
    if ('refusal' in who) return who.refusal;
    const { member } = who;
    if (member.role === 'viewer')
      return 'The buttons need the operator role; you are a viewer here. Ask a lightsout admin if you need more.';
    if (app.links === undefined)
      return 'This lightsout cannot follow buttons (no public_url is configured); use `/lightsout cancel ENV` instead.';
    const links = app.links;
    try {
      if (member.team !== null) {
        // Others' environments do not exist for a team-scoped member: checked before acting.
        const { environment } = await links.preview(pressed.value);
        if (!visibleTo(member).some((e) => e.name === environment))
          return `You may act on ${escapeMrkdwn(member.team)}’s environments only; this warning is not one of them.`;
      }
      const outcome = await links.use(pressed.value, actorOf(payload.userName, payload.userId));
      return `${outcome.said}.`;
    } catch (error) {
      if (error instanceof LinkRefused) return `Nothing changed: ${escapeMrkdwn(error.message)}`;
      throw error;
    }
  }
}

/** `slack:@jane (U024BE7LH)`, as events and the run's actor record it. */
export function actorOf(userName: string | null | undefined, userId: string): string {
  const name = userName?.replace(/[^\w.-]/g, '') ?? '';
  return name === '' ? `slack:${userId}` : `slack:@${name} (${userId})`;
}

/** An unexpected error: logged, and the person told so in a sentence. */
function failed(app: SlackApp, reply: FastifyReply, error: unknown): string {
  app.log(
    { route: reply.request.url, error: error instanceof Error ? error.message : String(error) },
    'Slack request failed',
  );
  return 'Something went wrong on lightsout’s side (it is logged). Check `/lightsout status` before trying again, or use the CLI or the API.';
}

interface PressedButton {
  readonly actionId: string;
  readonly value: string;
}

interface Interaction {
  readonly userId: string;
  readonly userName: string | undefined;
  readonly responseUrl: string | undefined;
  readonly actions: readonly PressedButton[];
}

/** A block_actions payload (https://api.slack.com/reference/interaction-payloads/block-actions). */
function payloadOf(text: string | null): Interaction | undefined {
  if (text === null) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const field = (from: unknown, name: string): unknown =>
    typeof from === 'object' && from !== null ? (from as Record<string, unknown>)[name] : undefined;
  const text_ = (from: unknown, name: string) => {
    const value = field(from, name);
    return typeof value === 'string' ? value : undefined;
  };
  if (text_(raw, 'type') !== 'block_actions') return undefined;
  const user = field(raw, 'user');
  const actions = field(raw, 'actions');
  return {
    userId: text_(user, 'id') ?? '',
    userName: text_(user, 'username') ?? text_(user, 'name'),
    responseUrl: text_(raw, 'response_url'),
    actions: (Array.isArray(actions) ? actions : []).map((a) => ({
      actionId: text_(a, 'action_id') ?? '',
      value: text_(a, 'value') ?? '',
    })),
  };
}

async function postAnswer(url: string, text: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify({ ...ephemeral(text), replace_original: false }),
    redirect: 'error',
    signal: AbortSignal.timeout(RESPONSE_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`response_url answered HTTP ${response.status}`);
}
