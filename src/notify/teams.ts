/**
 * Microsoft Teams: an Adaptive Card (1.4) in the message-with-attachments
 * envelope that both Teams incoming webhooks and Workflows ("Post to a channel
 * when a webhook request is received") accept. Title, sentence, then the facts.
 */
import type { Notice } from '../engine/ports.js';
import { CHANNEL_TIMEOUT_MS, type Channel } from './channel.js';
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
  const { title, text, facts } = render(notice);
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
          ],
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
    await postJson({
      what: `Teams channel "${this.name}"`,
      url: this.#url,
      body: JSON.stringify(teamsMessage(notice)),
      timeoutMs: this.#timeoutMs,
    });
  }

  toJSON(): { name: string; kind: 'teams' } {
    return { name: this.name, kind: this.kind };
  }
}
