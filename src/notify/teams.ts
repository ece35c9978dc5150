/**
 * Microsoft Teams: an Adaptive Card (1.4) in the message-with-attachments
 * envelope that both Teams incoming webhooks and Workflows ("Post to a channel
 * when a webhook request is received") accept. Title, sentence, the facts, a
 * report's lines, and a warning's actions as Action.OpenUrl buttons.
 */
import type { Notice } from '../engine/ports.js';
import { CHANNEL_TIMEOUT_MS, DeliveryError, type Channel } from './channel.js';
import { render } from './render.js';
import { postJson } from './webhook.js';

export interface TeamsChannelOptions {
  readonly name: string;
  /** The incoming webhook or Workflows URL; a secret (never logged, never in an error). */
  readonly url: string;
  /** Request timeout; CHANNEL_TIMEOUT_MS unless set (tests shorten it). */
  readonly timeoutMs?: number;
}

export function teamsMessage(notice: Notice): Record<string, unknown> {
  const { title, text, facts, lines, actions } = render(notice);
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          msteams: { width: 'Full' },
          body: [
            { type: 'TextBlock', text: title, weight: 'Bolder', size: 'Medium', wrap: true },
            { type: 'TextBlock', text, wrap: true },
            {
              type: 'FactSet',
              facts: facts.map(({ label, value }) => ({ title: label, value })),
            },
            // One TextBlock per line: Teams renders a block's Markdown lists unevenly.
            ...lines.map((line, i) => ({
              type: 'TextBlock',
              text: `• ${line}`,
              wrap: true,
              spacing: i === 0 ? 'Medium' : 'None',
            })),
          ],
          // Action.OpenUrl opens the link in the browser (Adaptive Cards schema 1.4).
          ...(actions.length === 0
            ? {}
            : {
                actions: actions.map(({ label, url }) => ({
                  type: 'Action.OpenUrl',
                  title: label,
                  url,
                })),
              }),
        },
      },
    ],
  };
}

export class TeamsChannel implements Channel {
  readonly kind = 'teams' as const;
  readonly name: string;
  readonly #url: string;
  readonly #timeoutMs: number;

  constructor(options: TeamsChannelOptions) {
    this.name = options.name;
    this.#url = options.url;
    this.#timeoutMs = options.timeoutMs ?? CHANNEL_TIMEOUT_MS;
  }

  async send(notice: Notice): Promise<void> {
    const what = `Teams channel "${this.name}"`;
    const answer = await postJson({
      what,
      url: this.#url,
      body: JSON.stringify(teamsMessage(notice)),
      timeoutMs: this.#timeoutMs,
    });
    // Legacy Office 365 connector webhooks answer 200 with the failure in the
    // text ("Webhook message delivery failed with error: ... HTTP error 429").
    if (/delivery failed/i.test(answer)) {
      const status = /HTTP error (\d{3})/i.exec(answer)?.[1];
      const permanent =
        status !== undefined && status.startsWith('4') && status !== '408' && status !== '429';
      throw new DeliveryError(
        `${what}: Teams accepted the request but could not deliver the card${
          status === undefined ? '' : ` (Teams got HTTP ${status})`
        }${permanent ? ': check the webhook and the card' : '; will try again'}`,
        permanent,
      );
    }
  }

  toJSON(): { name: string; kind: 'teams' } {
    return { name: this.name, kind: this.kind };
  }
}
