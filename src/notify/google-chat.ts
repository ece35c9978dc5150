/**
 * Google Chat: a space's incoming webhook gets a cardsV2 card (a header with the
 * title, the sentence as a text paragraph, one decoratedText per fact, a report's
 * lines, a warning's actions as link buttons) and the
 * same words as plain `text`, which notifications and clients without cards show.
 */
import type { Notice } from '../engine/ports.js';
import { CHANNEL_TIMEOUT_MS, type Channel } from './channel.js';
import { render } from './render.js';
import { postJson } from './webhook.js';

export interface GoogleChatChannelOptions {
  readonly name: string;
  /** The space's webhook URL (its key and token are in the query): a secret. */
  readonly url: string;
  /** Request timeout; CHANNEL_TIMEOUT_MS unless set (tests shorten it). */
  readonly timeoutMs?: number;
}

/** Chat's text formatting reads `*`, `_`, `~` and backticks; card text reads HTML. */
function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function googleChatMessage(notice: Notice): Record<string, unknown> {
  const { title, text, facts, lines, actions } = render(notice);
  return {
    text: [`*${title}*`, text, ...lines.map((l) => `• ${l}`)].join('\n'),
    cardsV2: [
      {
        cardId: `lightsout-${notice.runId}-${notice.kind}`,
        card: {
          header: { title, subtitle: notice.environment },
          sections: [
            {
              widgets: [
                { textParagraph: { text: escapeHtml(text) } },
                ...facts.map(({ label, value }) => ({
                  decoratedText: { topLabel: label, text: escapeHtml(value), wrapText: true },
                })),
                ...(lines.length === 0
                  ? []
                  : [{ textParagraph: { text: lines.map(escapeHtml).join('<br>') } }]),
                // A button's onClick.openLink opens its URL (Chat API, cards v2: OnClick).
                ...(actions.length === 0
                  ? []
                  : [
                      {
                        buttonList: {
                          buttons: actions.map(({ label, url }) => ({
                            text: label,
                            onClick: { openLink: { url } },
                          })),
                        },
                      },
                    ]),
              ],
            },
          ],
        },
      },
    ],
  };
}

export class GoogleChatChannel implements Channel {
  readonly kind = 'google-chat' as const;
  readonly name: string;
  readonly #url: string;
  readonly #timeoutMs: number;

  constructor(options: GoogleChatChannelOptions) {
    this.name = options.name;
    this.#url = options.url;
    this.#timeoutMs = options.timeoutMs ?? CHANNEL_TIMEOUT_MS;
  }

  async send(notice: Notice): Promise<void> {
    await postJson({
      what: `Google Chat channel "${this.name}"`,
      url: this.#url,
      body: JSON.stringify(googleChatMessage(notice)),
      timeoutMs: this.#timeoutMs,
      headers: { 'Content-Type': 'application/json; charset=UTF-8' },
    });
  }

  toJSON(): { name: string; kind: 'google-chat' } {
    return { name: this.name, kind: this.kind };
  }
}
