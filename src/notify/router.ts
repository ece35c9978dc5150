/**
 * The notifier the service runs: a notice recorded for the log is logged, and one
 * recorded for a channel (an environment's `notify`) goes to that channel alone.
 * Each was recorded once per channel, so each is retried on its own.
 */
import type { Logger } from 'pino';
import type { Notice, Notifier } from '../engine/ports.js';
import type { Channel } from './channel.js';
import { DeliveryError } from './channel.js';
import { LogNotifier } from './log-notifier.js';

export class ChannelNotifier implements Notifier {
  private readonly logged: LogNotifier;

  constructor(
    log: Logger,
    private readonly channels: ReadonlyMap<string, Channel>,
  ) {
    this.logged = new LogNotifier(log);
  }

  async send(notice: Notice): Promise<void> {
    if (notice.channel === undefined) return this.logged.send(notice);
    const channel = this.channels.get(notice.channel);
    if (channel === undefined)
      throw new DeliveryError(
        `no notifier "${notice.channel}" is configured any more; the notice stays undelivered`,
        true,
      );
    await channel.send(notice);
  }
}
