/**
 * docs/events.md lists every kind of event the code records, and nothing else: the
 * kinds are collected from the source (a syntax scan of src/ through the TypeScript
 * compiler) and from what a representative engine story really records; each must
 * have a section, each section a kind the source still records, and each recorded
 * event must fit its section (payload fields, environment/runId/resource columns).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import { RECORDED_KINDS } from '../../src/forward/kinds.js';
import { CommandProvider } from '../../src/providers/command/command.js';
import type { CommandTarget } from '../../src/providers/command/command-line.js';
import type { Event } from '../../src/store/queries/events.js';
import type { Store } from '../../src/store/store.js';
import { harness } from '../engine/harness.js';
import { officeHours } from '../engine/fixtures.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** Event kinds are `family.name`; a notice's or a resource's kind (`stop-warning`, `ec2`) is not. */
const EVENT_KIND = /^[a-z]+\.[a-z]+(-[a-z]+)*$/;

// ---------------------------------------------------------------------------
// The source: a syntax scan. Kinds are written in object literals shaped like an
// event (`{ at, kind, ... }`, an EventInput) or a provider's note (`{ id, kind,
// detail }`, kept as an event by the executor). A kind that is not a literal is
// followed: a conditional's branches, a constant, a helper's parameter to the
// arguments of its calls. What cannot be followed is reported, so a new way of
// building a kind fails here instead of going unseen. Hand-written rather than the
// type checker: a program over src/ loads the AWS SDK's types and takes seconds.
// ---------------------------------------------------------------------------

export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

export interface ScanResult {
  /** Each kind with where it is written (`path:line`). */
  readonly kinds: Map<string, string[]>;
  /** Kinds this scan could not follow, with where. */
  readonly unresolved: string[];
}

export function scanEventKinds(files: readonly SourceFile[]): ScanResult {
  const parsed = files.map((f) => ({
    path: f.path,
    source: ts.createSourceFile(f.path, f.text, ts.ScriptTarget.Latest, true),
  }));
  // Top-level `const NAME = 'text'` of every file: constants a kind may be imported from.
  const constants = new Map<string, ts.Expression>();
  for (const { source } of parsed)
    for (const statement of source.statements)
      if (ts.isVariableStatement(statement))
        for (const d of statement.declarationList.declarations)
          if (ts.isIdentifier(d.name) && d.initializer !== undefined)
            constants.set(d.name.text, d.initializer);

  const kinds = new Map<string, string[]>();
  const unresolved: string[] = [];
  for (const { path, source } of parsed) {
    const where = (node: ts.Node) =>
      `${path}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;

    /** The texts an expression may have; undefined when it cannot be followed. */
    const values = (expression: ts.Expression, depth = 0): string[] | undefined => {
      if (depth > 8) return undefined;
      const e = skipWrappers(expression);
      if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return [e.text];
      if (ts.isConditionalExpression(e)) {
        const a = values(e.whenTrue, depth + 1);
        const b = values(e.whenFalse, depth + 1);
        return a === undefined || b === undefined ? undefined : [...a, ...b];
      }
      if (ts.isIdentifier(e)) return identifierValues(e, depth);
      return undefined;
    };

    const identifierValues = (name: ts.Identifier, depth: number): string[] | undefined => {
      // A parameter of an enclosing function: the arguments its calls in this file pass.
      for (let node: ts.Node = name.parent; !ts.isSourceFile(node); node = node.parent) {
        if (!ts.isFunctionLike(node)) continue;
        const index = node.parameters.findIndex(
          (p) => ts.isIdentifier(p.name) && p.name.text === name.text,
        );
        if (index < 0) continue;
        const callee = functionName(node);
        if (callee === undefined) return undefined;
        const found: string[] = [];
        const lost: ts.Node[] = [];
        visit(source, (n) => {
          if (!ts.isCallExpression(n) || !ts.isIdentifier(n.expression)) return;
          if (n.expression.text !== callee) return;
          const argument = n.arguments[index];
          const texts = argument === undefined ? undefined : values(argument, depth + 1);
          if (texts === undefined) lost.push(n);
          else found.push(...texts);
        });
        return lost.length === 0 && found.length > 0 ? found : undefined;
      }
      // A constant of this file or of another.
      let local: ts.Expression | undefined;
      visit(source, (n) => {
        if (
          ts.isVariableDeclaration(n) &&
          ts.isIdentifier(n.name) &&
          n.name.text === name.text &&
          n.initializer !== undefined &&
          ts.getCombinedNodeFlags(n) & ts.NodeFlags.Const
        )
          local = n.initializer;
      });
      const initializer = local ?? constants.get(name.text);
      return initializer === undefined ? undefined : values(initializer, depth + 1);
    };

    visit(source, (node) => {
      if (!ts.isObjectLiteralExpression(node)) return;
      const names = new Set(
        node.properties.map((p) =>
          p.name !== undefined && ts.isIdentifier(p.name) ? p.name.text : '',
        ),
      );
      if (!names.has('kind') || !(names.has('at') || names.has('detail'))) return;
      const property = node.properties.find(
        (p) => p.name !== undefined && ts.isIdentifier(p.name) && p.name.text === 'kind',
      )!;
      // `kind: other.kind` passes on a kind written elsewhere (a note, a notice): found there.
      if (
        ts.isPropertyAssignment(property) &&
        ts.isPropertyAccessExpression(skipWrappers(property.initializer))
      )
        return;
      const texts = ts.isShorthandPropertyAssignment(property)
        ? identifierValues(property.name, 0)
        : ts.isPropertyAssignment(property)
          ? values(property.initializer)
          : undefined;
      if (texts === undefined) {
        unresolved.push(`${where(property)}: ${property.getText(source)}`);
        return;
      }
      for (const text of texts.filter((t) => EVENT_KIND.test(t)))
        kinds.set(text, [...(kinds.get(text) ?? []), where(property)]);
    });
  }
  return { kinds, unresolved };
}

function skipWrappers(e: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e))
    e = e.expression;
  return e;
}

/** The name a function is called by: its declaration's, or the variable it is assigned to. */
function functionName(node: ts.SignatureDeclaration): string | undefined {
  if (ts.isFunctionDeclaration(node) && node.name !== undefined) return node.name.text;
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  return undefined;
}

function visit(node: ts.Node, f: (node: ts.Node) => void): void {
  f(node);
  ts.forEachChild(node, (child) => {
    visit(child, f);
  });
}

function sourceFiles(): SourceFile[] {
  const dir = join(ROOT, 'src');
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('.ts'))
    .sort()
    .map((p) => ({ path: `src/${p}`, text: readFileSync(join(dir, p), 'utf8') }));
}

// ---------------------------------------------------------------------------
// The documentation: one `### \`kind\`` section per kind, with a "Columns:" line and
// either a field table or "No payload fields".
// ---------------------------------------------------------------------------

type Presence = 'always' | 'never' | 'sometimes';

export interface DocumentedKind {
  readonly kind: string;
  readonly columns: { environment: Presence; runId: Presence; resource: Presence };
  /** Field name → whether it may be left out. */
  readonly fields: Map<string, boolean>;
  /** The section's example payload, when it has one. */
  readonly example?: Record<string, unknown>;
}

export function documentedKinds(markdown: string): Map<string, DocumentedKind> {
  const sections = new Map<string, DocumentedKind>();
  const parts = markdown.split(/^### /m).slice(1);
  for (const part of parts) {
    const kind = /^`([^`]+)`\s*$/m.exec(part.split('\n')[0] ?? '')?.[1];
    if (kind === undefined)
      throw new Error(`an events.md section whose title is not a kind: ${part.split('\n')[0]}`);
    const body = part.split(/^#{1,3} /m)[0]!;
    const flat = body.replace(/\s+/g, ' ');
    const columns =
      /Columns: environment (always|never|sometimes), runId (always|never|sometimes), resource (always|never|sometimes)\./.exec(
        flat,
      );
    if (columns === null)
      throw new Error(`events.md, ${kind}: no "Columns: environment …, runId …, resource …." line`);
    const fields = new Map<string, boolean>();
    for (const line of body.split('\n')) {
      const row = /^\|\s*`(\w+)`\s*\|([^|]*)\|/.exec(line);
      if (row !== null) fields.set(row[1]!, /optional/.test(row[2]!));
    }
    if (fields.size === 0 && !flat.includes('No payload fields'))
      throw new Error(`events.md, ${kind}: neither a field table nor "No payload fields"`);
    if (sections.has(kind)) throw new Error(`events.md lists ${kind} twice`);
    const json = /```json\n([\s\S]*?)```/.exec(body)?.[1];
    if (json === undefined && fields.size > 0)
      throw new Error(`events.md, ${kind}: no example payload (a json block)`);
    sections.set(kind, {
      kind,
      columns: {
        environment: columns[1] as Presence,
        runId: columns[2] as Presence,
        resource: columns[3] as Presence,
      },
      fields,
      ...(json === undefined ? {} : { example: JSON.parse(json) as Record<string, unknown> }),
    });
  }
  return sections;
}

/** What is wrong with a recorded event against its section, one line each. */
export function misfits(event: Event, documented: ReadonlyMap<string, DocumentedKind>): string[] {
  const section = documented.get(event.kind);
  if (section === undefined)
    return [`${event.kind} is recorded but has no section in docs/events.md`];
  const problems = payloadMisfits(event.kind, event.payload, section);
  for (const column of ['environment', 'runId', 'resource'] as const) {
    const presence = section.columns[column];
    const value = event[column];
    if (presence === 'always' && value === null)
      problems.push(`${event.kind}: ${column} is null, documented always`);
    if (presence === 'never' && value !== null)
      problems.push(`${event.kind}: ${column} is set, documented never`);
  }
  return problems;
}

function payloadMisfits(
  kind: string,
  payload: Record<string, unknown>,
  section: DocumentedKind,
): string[] {
  const problems: string[] = [];
  const keys = Object.keys(payload);
  for (const key of keys)
    if (!section.fields.has(key))
      problems.push(`${kind}: payload field "${key}" is not documented`);
  for (const [field, optional] of section.fields)
    if (!optional && !keys.includes(field))
      problems.push(`${kind}: documented field "${field}" is missing (mark it optional?)`);
  return problems;
}

const docs = () => documentedKinds(readFileSync(join(ROOT, 'docs', 'events.md'), 'utf8'));

describe('the scan of the source for event kinds', () => {
  it('follows literals, conditionals, constants and helper parameters, and reports what it cannot follow', () => {
    const { kinds, unresolved } = scanEventKinds([
      {
        path: 'src/a.ts',
        text: `
          export const WAITING = 'run.waiting';
          const note = { id, kind: ok ? 'alarms.up' : 'alarms.down', detail: {} };
          const events = (kind: string) => [{ at: now, actor: 'x', kind }];
          events('notice.sent'); events(WAITING);
          const notEvent = { kind: 'stop-warning', at: now };
          const reader = { kind: 'hold.read' };
          const forwarded = { at: now, kind: n.kind };
          const dynamic = { at: now, kind: \`run.\${phase}\` };`,
      },
      {
        path: 'src/b.ts',
        text: `import { WAITING } from './a.js'; const e = { at: 1, kind: WAITING };`,
      },
    ]);
    expect([...kinds.keys()].sort()).toEqual([
      'alarms.down',
      'alarms.up',
      'notice.sent',
      'run.waiting',
    ]);
    expect(kinds.get('run.waiting')).toEqual(['src/a.ts:4', 'src/b.ts:1']);
    expect(unresolved).toEqual(['src/a.ts:9: kind: `run.${phase}`']);
  });
});

describe('docs/events.md', () => {
  it('the source builds every event kind in a way the scan can follow', () => {
    expect(scan().unresolved).toEqual([]);
    // The scan finds kinds at all (a broken scan would make the next tests vacuous).
    expect(scan().kinds.size).toBeGreaterThan(25);
  });

  it('has a section for every kind the source records', () => {
    const documented = docs();
    const missing = [...scan().kinds]
      .filter(([kind]) => !documented.has(kind))
      .map(([k, w]) => `${k} (${w.join(', ')})`);
    expect(missing).toEqual([]);
  });

  it("gives each kind an example payload that fits the kind's own field table", () => {
    const problems = [...docs().values()].flatMap((section) =>
      section.example === undefined
        ? []
        : payloadMisfits(`${section.kind} (example)`, section.example, section),
    );
    expect(problems).toEqual([]);
  });

  it('documents no kind the source no longer records', () => {
    const stale = [...docs().keys()].filter((kind) => !scan().kinds.has(kind));
    expect(stale).toEqual([]);
  });

  it("lists in RECORDED_KINDS (lint's check of forward kinds) every kind the source records, in the docs' order", () => {
    expect(RECORDED_KINDS).toEqual([...docs().keys()].filter((kind) => scan().kinds.has(kind)));
    expect([...RECORDED_KINDS].sort()).toEqual([...scan().kinds.keys()].sort());
  });
});

// ---------------------------------------------------------------------------
// A representative story: two environments on office hours, one in enforce mode,
// one with a command target, through a day and a night of holds, reservations,
// warnings (the first fails), a cancel, drift, a database that starts by itself
// and fails to stop, downtime, and an ad-hoc stop that a start overtakes. Every
// event it records must fit its section.
// ---------------------------------------------------------------------------

const environment = (name: string, extra: Partial<Environment> = {}): Environment => ({
  name,
  timezone: 'UTC',
  schedule: 'office-hours',
  team: 'payments',
  graceMs: 15 * 60_000,
  tiers: [
    { name: 'data', select: [{ provider: 'sandbox', kinds: ['rds'], tags: { env: name } }] },
    { name: 'apps', select: [{ provider: 'sandbox', kinds: ['ec2'], tags: { env: name } }] },
  ],
  ...extra,
});

/** A tier of one command target, whose commands print what they do. */
const withCommandTarget = (e: Environment): Environment => ({
  ...e,
  tiers: [
    ...(e.tiers ?? []),
    {
      name: 'hosts',
      select: [
        {
          provider: 'command',
          kinds: ['command'],
          settings: {
            targets: {
              [`${e.name}-vm`]: {
                start: `echo ${e.name}-vm started`,
                stop: `echo ${e.name}-vm stopped`,
                timeoutMs: 10_000,
                shell: false,
                env: {},
              } satisfies CommandTarget,
            },
          },
        },
      ],
    },
  ],
});

describe.each(DATABASES)('the events an engine story records on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  it('are all documented, and fit their sections', async () => {
    store = await database.open();
    const h = await harness(store, {
      schedules: [officeHours],
      environments: [withCommandTarget(environment('dev')), environment('qa', { mode: 'enforce' })],
      seeds: [
        { kind: 'rds', name: 'dev-db', tags: { env: 'dev' } },
        { kind: 'ec2', name: 'dev-web', tags: { env: 'dev' } },
        { kind: 'ec2', name: 'qa-web', tags: { env: 'qa' } },
      ],
      start: '2026-06-01T17:00Z',
      providers: new Map([['command', new CommandProvider()]]),
    });
    // The first notice fails (a channel down): it is retried.
    let failures = 1;
    const engine = h.makeEngine('test', undefined, {
      notifier: {
        send: () =>
          failures-- > 0 ? Promise.reject(new Error('503 Service Unavailable')) : Promise.resolve(),
      },
    });
    const tickAt = (iso: string) => h.tickAt(iso, engine);
    const grace = async (name: string) =>
      (await store!.listRuns({ environment: name, status: 'grace' }))[0]!;

    await tickAt('2026-06-01T17:00Z'); // both adopted
    const hold = await engine.hold(
      'dev',
      { state: 'on', until: at('2026-06-01T17:30Z') },
      'api:ci',
    );
    await engine.deleteHold(hold, 'api:ci');
    const reservation = await engine.reserve(
      'dev',
      at('2026-06-03T06:00Z'),
      at('2026-06-03T07:00Z'),
      'cli:jane',
    );
    await engine.deleteReservation(reservation, 'cli:jane');
    await tickAt('2026-06-01T17:45Z'); // stops warned
    h.clock.set(at('2026-06-01T17:50Z'));
    await engine.cancel((await grace('dev')).id, 'slack:@jane (U1)', at('2026-06-01T18:30Z'));
    await tickAt('2026-06-01T18:00Z'); // qa stops
    await tickAt('2026-06-01T18:15Z'); // dev warned again
    await tickAt('2026-06-01T18:30Z'); // dev stops
    h.clock.set(at('2026-06-01T19:00Z'));
    await h.sandbox.setStateByHand('qa-web', 'on'); // drift, enforced
    await tickAt('2026-06-01T19:00Z');
    await tickAt('2026-06-01T19:05Z');
    h.clock.set(at('2026-06-02T03:00Z'));
    await h.sandbox.setStateByHand('dev-db', 'on'); // a database starts by itself
    h.sandbox.inject('dev-db', { kind: 'fail', reason: 'InvalidDBInstanceState' });
    await tickAt('2026-06-02T03:05Z'); // its stop fails: a retry is scheduled
    h.sandbox.inject('dev-db', undefined);
    await tickAt('2026-06-02T03:10Z');
    await tickAt('2026-06-02T09:00Z'); // down over the 08:00 start: missed, caught up
    await engine.command('dev', 'stop', 'cli:jane', 10 * 60_000);
    await engine.command('dev', 'start', 'cli:jane'); // overtakes the stop in grace
    await tickAt('2026-06-02T09:01Z');
    await tickAt('2026-06-02T09:20Z');

    const events: Event[] = [];
    for (let after: string | undefined, first = true; first || after !== undefined; first = false) {
      const page = await store.queryEvents({}, { after, limit: 1000 });
      events.push(...page.events);
      after = page.next;
    }
    const recorded = new Set(events.map((e) => e.kind));
    // The story goes through these, so the checks below are not vacuous.
    expect([...recorded].sort()).toEqual(
      expect.arrayContaining([
        'drift.detected',
        'environment.adopted',
        'hold.created',
        'hold.deleted',
        'notice.failed',
        'notice.sent',
        'reservation.created',
        'reservation.deleted',
        'resource.output',
        'resource.restarted-by-itself',
        'run.acting',
        'run.cancelled',
        'run.created',
        'run.finished',
        'run.retry-scheduled',
        'run.superseded',
        'transition.missed',
      ]),
    );
    // What the engine records, the scan of the source finds too.
    expect([...recorded].filter((kind) => !scan().kinds.has(kind))).toEqual([]);
    const documented = docs();
    expect(events.flatMap((e) => misfits(e, documented))).toEqual([]);
  });
});

let scanned: ScanResult | undefined;
function scan(): ScanResult {
  return (scanned ??= scanEventKinds(sourceFiles()));
}

describe('the check of a recorded event against its section', () => {
  it('names an undocumented field, a missing required field, and a wrong column', () => {
    const documented = documentedKinds(
      [
        '### `hold.deleted`',
        'Columns: environment always, runId never, resource never.',
        '| field | type | meaning |',
        '| --- | --- | --- |',
        '| `id` | string | the id |',
        '| `note` | string, optional | a note |',
        '```json',
        '{ "id": "h1" }',
        '```',
      ].join('\n'),
    );
    const event: Event = {
      id: 1,
      at: 0,
      actor: 'api:ci',
      kind: 'hold.deleted',
      environment: null,
      resource: null,
      runId: null,
      payload: { state: 'on' },
    };
    expect(misfits(event, documented)).toEqual([
      'hold.deleted: payload field "state" is not documented',
      'hold.deleted: documented field "id" is missing (mark it optional?)',
      'hold.deleted: environment is null, documented always',
    ]);
    expect(misfits({ ...event, kind: 'hold.lost' }, documented)).toEqual([
      'hold.lost is recorded but has no section in docs/events.md',
    ]);
  });
});
