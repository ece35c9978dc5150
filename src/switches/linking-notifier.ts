/**
 * Adds the action links to each stop warning on its way to a channel: minted at
 * delivery, so every channel gets links of its own (the actor of a followed link
 * says which channel it came through) and a retried delivery gets fresh ones.
 */
import type { Notice, Notifier } from '../engine/ports.js';
import type { ActionLinks } from './action-links.js';

export class LinkingNotifier implements Notifier {
  constructor(
    private readonly inner: Notifier,
    private readonly links: ActionLinks,
  ) {}

  async send(notice: Notice): Promise<void> {
    const actions = await this.links.actionsFor(notice);
    if (actions.length === 0) return this.inner.send(notice);
    await this.inner.send({ ...notice, details: { ...notice.details, actions } });
  }
}
