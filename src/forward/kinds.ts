/**
 * A destination's `kinds`: event kinds, or globs where `*` stands for any run of
 * characters (`run.*`, `*.failed`). Written by hand: `*` is the only wildcard kinds
 * need, and Node 20 has no glob matcher (path.matchesGlob came in 22).
 */
export function kindFilter(globs: readonly string[] | undefined): (kind: string) => boolean {
  if (globs === undefined) return () => true;
  const patterns = globs.map((g) => new RegExp(`^${g.split('*').map(escape).join('.*')}$`));
  return (kind) => patterns.some((p) => p.test(kind));
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Every kind of event lightsout records, as docs/events.md lists them: what
 * `lightsout lint` checks a destination's `kinds` against. A test
 * (test/docs/events-schema.test.ts) fails when it and the source differ.
 */
export const RECORDED_KINDS: readonly string[] = [
  'run.created',
  'run.notice-wait',
  'run.notice-wait-ended',
  'run.acting',
  'run.cancelled',
  'run.superseded',
  'run.finished',
  'run.retry-scheduled',
  'transition.missed',
  'hold.created',
  'hold.deleted',
  'reservation.created',
  'reservation.deleted',
  'environment.adopted',
  'drift.detected',
  'resource.restarted-by-itself',
  'reconcile.failed',
  'resource.claimed-twice',
  'resource.kept-on',
  'resource.output',
  'alarms.disabled',
  'alarms.enabled',
  'alarms.failed',
  'restore.forgotten',
  'restore.forget-failed',
  'resource.tag-failed',
  'provider.follow-up-failed',
  'notice.sent',
  'notice.failed',
  'token.created',
  'token.revoked',
  'demo.seeded',
];
