/** Notices to the structured log: every notice goes here too, beside its channels (router.ts). */
import type { Logger } from 'pino';
import type { Notice, Notifier } from '../engine/ports.js';

export class LogNotifier implements Notifier {
  constructor(private readonly log: Logger) {}

  send(notice: Notice): Promise<void> {
    this.log.info(
      {
        notice: notice.kind,
        environment: notice.environment,
        team: notice.team,
        run: notice.runId,
      },
      notice.text,
    );
    return Promise.resolve();
  }
}
