/**
 * From a validated config document to the core's {@link Fleet}: schedules get
 * their zones, environments their schedules, and reservation and hold times are
 * read in the environment's zone. Problems come back as issues with the path of
 * the field at fault; nothing here throws on bad input.
 */
import type { Environment, Hold, Reservation, Schedule } from '../core/glossary.js';
import type { Fleet } from '../core/planner.js';
import { parseInstant } from '../core/time-text.js';
import type { ConfigDocument } from './schema.js';

export type Path = readonly (string | number)[];

export interface FleetIssue {
  readonly path: Path;
  readonly message: string;
}

function checkNotifiers(
  doc: ConfigDocument,
  names: readonly string[],
  path: Path,
  issues: FleetIssue[],
): void {
  names.forEach((channel, index) => {
    if (doc.notifiers[channel] === undefined)
      issues.push({
        path: [...path, index],
        message: unknownName('notifier', channel, Object.keys(doc.notifiers)),
      });
  });
}

export function buildFleet(doc: ConfigDocument): { fleet: Fleet; issues: FleetIssue[] } {
  const issues: FleetIssue[] = [];
  if (doc.api?.oidc?.sign_in !== undefined && doc.public_url === undefined)
    issues.push({
      path: ['api', 'oidc', 'sign_in'],
      message:
        'sign_in needs public_url, the address people reach lightsout at (e.g. public_url: https://lightsout.example.com): the issuer sends them back to public_url + /api/v1/session/oidc/callback',
    });
  const schedules = new Map<string, Schedule>();
  for (const [name, s] of Object.entries(doc.schedules)) {
    const rule =
      s.periods !== undefined
        ? { kind: 'periods' as const, periods: s.periods }
        : { kind: 'expressions' as const, start: s.start!, stop: s.stop! };
    schedules.set(name, {
      name,
      timezone: s.timezone ?? doc.timezone,
      rule,
      except: s.except ?? { dates: [], holidays: [] },
    });
  }

  const environments: Environment[] = [];
  for (const [name, e] of Object.entries(doc.environments)) {
    const schedule = e.schedule === undefined ? undefined : schedules.get(e.schedule);
    if (e.schedule !== undefined && schedule === undefined) {
      issues.push({
        path: ['environments', name, 'schedule'],
        message: unknownName('schedule', e.schedule, [...schedules.keys()]),
      });
    }
    checkNotifiers(doc, e.notify, ['environments', name, 'notify'], issues);
    const baseline = e.savings?.baseline;
    if (baseline !== undefined && !schedules.has(baseline))
      issues.push({
        path: ['environments', name, 'savings', 'baseline'],
        message: unknownName('schedule', baseline, [...schedules.keys()]),
      });
    // The team's channels first, then the environment's own, each once.
    const notify = [
      ...new Set([...(e.team === undefined ? [] : (doc.teams[e.team]?.notify ?? [])), ...e.notify]),
    ];
    if (e.require_notice && notify.length === 0)
      issues.push({
        path: ['environments', name, 'require_notice'],
        message:
          'require_notice waits for a channel to accept the warning, and this environment has none: ' +
          `name one in notify: [...] (or its team's notify), or remove require_notice`,
      });
    const tiers =
      e.tiers ?? (e.select === undefined ? [] : [{ name: 'default', select: e.select }]);
    environments.push({
      name,
      timezone: e.timezone ?? schedule?.timezone ?? doc.timezone,
      ...(e.team === undefined ? {} : { team: e.team }),
      ...(schedule === undefined ? {} : { schedule: schedule.name }),
      mode: e.mode,
      graceMs: e.grace,
      maxReservationMs: e.max_reservation,
      onFailure: e.on_failure,
      tiers,
      ...(notify.length === 0 ? {} : { notify }),
      ...(e.require_notice ? { requireNotice: { waitMs: e.notice_wait } } : {}),
      ...(e.savings === undefined ? {} : { savings: e.savings }),
    });
  }
  for (const [team, t] of Object.entries(doc.teams))
    checkNotifiers(doc, t.notify, ['teams', team, 'notify'], issues);
  const zoneOf = new Map(environments.map((e) => [e.name, e.timezone]));
  const environmentNames = [...zoneOf.keys()];

  const reservations: Reservation[] = [];
  doc.reservations.forEach((r, index) => {
    const path = ['reservations', index];
    const zone = zoneOf.get(r.environment);
    if (zone === undefined) {
      issues.push({
        path: [...path, 'environment'],
        message: unknownName('environment', r.environment, environmentNames),
      });
      return;
    }
    const from = instant(r.from, zone, [...path, 'from'], issues);
    const to = instant(r.to, zone, [...path, 'to'], issues);
    if (from === undefined || to === undefined) return;
    if (to <= from) {
      issues.push({
        path: [...path, 'to'],
        message: `the reservation ends (${r.to}) at or before it starts (${r.from}); make "to" later than "from"`,
      });
      return;
    }
    reservations.push({ environment: r.environment, from, to });
  });

  const holds: Hold[] = [];
  doc.holds.forEach((h, index) => {
    const path = ['holds', index];
    const zone = zoneOf.get(h.environment);
    if (zone === undefined) {
      issues.push({
        path: [...path, 'environment'],
        message: unknownName('environment', h.environment, environmentNames),
      });
      return;
    }
    const until = instant(h.until, zone, [...path, 'until'], issues);
    const from =
      h.from === undefined ? undefined : instant(h.from, zone, [...path, 'from'], issues);
    if (until === undefined || (h.from !== undefined && from === undefined)) return;
    if (from !== undefined && until <= from) {
      issues.push({
        path: [...path, 'until'],
        message: `the hold ends (${h.until}) at or before it starts (${h.from ?? ''}); make "until" later than "from"`,
      });
      return;
    }
    holds.push({
      environment: h.environment,
      state: h.state,
      until,
      ...(from === undefined ? {} : { from }),
    });
  });

  for (const [name, h] of Object.entries(doc.switches.hooks)) {
    const actions =
      h.do !== undefined
        ? [['do', h.do] as const]
        : Object.entries(h.when ?? {}).map(([value, a]) => [['when', value], a] as const);
    for (const [where, action] of actions)
      if (!zoneOf.has(action.environment))
        issues.push({
          path: ['switches', 'hooks', name, ...[where].flat(), 'environment'],
          message: unknownName('environment', action.environment, environmentNames),
        });
  }

  return { fleet: { schedules, environments, reservations, holds }, issues };
}

function instant(text: string, zone: string, path: Path, issues: FleetIssue[]): number | undefined {
  const parsed = parseInstant(text, zone);
  if (parsed.ok) return parsed.value;
  issues.push({ path, message: parsed.error });
  return undefined;
}

function unknownName(kind: string, name: string, known: readonly string[]): string {
  const list =
    known.length === 0 ? `no ${kind}s are defined` : `known ${kind}s: ${known.join(', ')}`;
  return `there is no ${kind} "${name}" (${list}); fix the name or define it under ${kind}s:`;
}
