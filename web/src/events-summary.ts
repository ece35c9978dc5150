/**
 * One readable line per event, from its kind and payload (docs/events.md lists
 * them), and its time in the viewer's zone and in UTC, each labelled. Its imports
 * name their .js file: test/web/events-summary.test.ts type-checks it under NodeNext.
 */
import type { LoggedEvent } from './events-api.js';

/** This browser's IANA time zone (UTC when it has none). */
export const VIEWER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string, seconds: boolean): Intl.DateTimeFormat {
  const key = `${zone} ${seconds}`;
  let f = formats.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      ...(seconds ? { second: '2-digit' } : {}),
    });
    formats.set(key, f);
  }
  return f;
}

/** "Mon 1 Jun 2026, 14:00:05 (Europe/Paris)". */
export function timeIn(iso: string, zone: string, seconds = true): string {
  return `${format(zone, seconds).format(new Date(iso))} (${zone})`;
}

/** A time inside a summary: in the viewer's zone, named. */
const when = (value: unknown) =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value))
    ? timeIn(value, VIEWER_ZONE, false)
    : String(value);

const text = (value: unknown) =>
  typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);

const count = (value: unknown, noun: string) => {
  const n = Array.isArray(value) ? value.length : 0;
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
};

const seconds = (ms: unknown) => (typeof ms === 'number' ? `${Math.round(ms / 1000)} s` : '');

/** What happened, in a line: "stop run created (schedule), acts Mon 1 Jun 2026, 18:00 (UTC)". */
export function summary(event: LoggedEvent): string {
  const p = event.payload;
  switch (event.kind) {
    case 'run.created':
      return `${text(p.direction)} run created (${text(p.trigger)})${p.actAt === undefined ? '' : `, acts ${when(p.actAt)}`}`;
    case 'run.acting':
      return 'run began to act';
    case 'run.finished':
      return p.error !== undefined
        ? `run failed: ${text(p.error)}`
        : `${text(p.direction)} run ${text(p.outcome)}${p.durationMs === undefined ? '' : ` in ${seconds(p.durationMs)}`}${Array.isArray(p.failures) && p.failures.length > 0 ? `, ${count(p.failures, 'failure')}` : ''}`;
    case 'run.cancelled':
      return `stop cancelled; kept on until ${when(p.holdUntil)}`;
    case 'run.superseded':
      return `run superseded: ${text(p.reason)}`;
    case 'run.notice-wait':
      return `stop waits for its warning until ${when(p.until)}`;
    case 'run.notice-wait-ended':
      return p.delivered === true
        ? `warning delivered on ${text(p.channel)}; stop acts`
        : `no warning delivered; stop acts anyway`;
    case 'hold.created':
      return `held ${text(p.state)} until ${when(p.until)}`;
    case 'hold.deleted':
      return `hold ${text(p.state)} deleted`;
    case 'reservation.created':
      return `reserved ${when(p.from)} to ${when(p.to)}${p.resource === undefined ? '' : ` for ${text(p.resource)}`}`;
    case 'reservation.deleted':
      return 'reservation deleted';
    case 'environment.adopted':
      return `adopted as ${text(p.state)} (${text(p.mode)} mode)`;
    case 'drift.detected':
      return `${count(p.resources, 'resource')} found otherwise; brought back ${text(p.desired)}`;
    case 'resource.restarted-by-itself':
      return `${count(p.resources, 'resource')} started by itself; stopped again`;
    case 'reconcile.failed':
      return `reconciling failed: ${text(p.error)}`;
    case 'resource.output':
      return `${text(p.action)} ${text(p.result)}: ${text(p.output)}`;
    case 'notice.sent':
      return `${text(p.notice)} sent${p.channel === undefined ? ' to the log' : ` on ${text(p.channel)}`}`;
    case 'notice.failed':
      return `${text(p.notice)} failed on ${text(p.channel)} (attempt ${text(p.attempt)}): ${text(p.error)}`;
    case 'token.created':
      return `token ${text(p.name)} created (${text(p.role)}${p.team === null || p.team === undefined ? '' : `, team ${text(p.team)}`})`;
    case 'token.revoked':
      return `token ${text(p.token)} revoked`;
    case 'demo.seeded':
      return 'demo data seeded';
    default: {
      // A kind this page does not know yet: its first fields, as they are.
      const fields = Object.entries(p)
        .slice(0, 3)
        .map(([k, v]) => `${k}: ${text(v)}`);
      return fields.length === 0 ? event.kind : fields.join(', ');
    }
  }
}
