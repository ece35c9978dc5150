/**
 * Reads `lightsout.yaml`: YAML with positions (yaml), shape checks (zod, schema.ts),
 * then cross-field checks (fleet.ts). Every problem becomes a {@link Diagnostic}
 * that names the file, line, column, path and the fix.
 */
import { readFile } from 'node:fs/promises';
import { closest } from 'fastest-levenshtein';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node } from 'yaml';
import type { z } from 'zod';
import type { Fleet } from '../core/planner.js';
import { buildFleet } from './fleet.js';
import type { Path } from './fleet.js';
import { configSchema } from './schema.js';
import type { ConfigDocument } from './schema.js';

export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Dotted path of the field at fault, e.g. `schedules.office-hours.periods[0].start`. */
  readonly path: string;
  readonly message: string;
}

export interface LoadedConfig {
  readonly file: string;
  readonly document: ConfigDocument;
  readonly fleet: Fleet;
  /** File position of a config path, for warnings found after loading. */
  readonly locate: (path: Path, severity: Diagnostic['severity'], message: string) => Diagnostic;
}

export type LoadResult =
  | { readonly ok: true; readonly config: LoadedConfig }
  | { readonly ok: false; readonly diagnostics: readonly Diagnostic[] };

export async function loadConfigFile(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    return fail({
      severity: 'error',
      file,
      line: 0,
      column: 0,
      path: '',
      message: `cannot read the config file (${reason}); pass an existing file with --config FILE`,
    });
  }
  return parseConfig(text, file);
}

/** Parses and validates config text; `file` is only used in diagnostics. */
export function parseConfig(text: string, file: string): LoadResult {
  const lineCounter = new LineCounter();
  const yaml = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  if (yaml.errors.length > 0) {
    return fail(
      ...yaml.errors.map((e) => ({
        severity: 'error' as const,
        file,
        ...at(e.pos[0]),
        path: '',
        message: `${e.message.split('\n')[0] ?? 'invalid YAML'}; fix the YAML syntax at this line`,
      })),
    );
  }
  const locate = (
    path: Path,
    severity: Diagnostic['severity'],
    message: string,
    key?: string,
  ): Diagnostic => ({
    severity,
    file,
    ...at(offsetOf(yaml, key === undefined ? path : [...path, key], key !== undefined)),
    path: formatPath(key === undefined ? path : [...path, key]),
    message,
  });
  const raw: unknown = yaml.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(
      locate(
        [],
        'error',
        'the config must be a mapping with timezone, schedules and environments; see examples/lightsout.yaml',
      ),
    );
  }
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    return fail(...parsed.error.issues.flatMap((issue) => zodDiagnostics(issue, locate, raw)));
  }
  const { fleet, issues } = buildFleet(parsed.data);
  if (issues.length > 0) return fail(...issues.map((i) => locate(i.path, 'error', i.message)));
  return {
    ok: true,
    config: {
      file,
      document: parsed.data,
      fleet,
      locate: (path, severity, message) => locate(path, severity, message),
    },
  };
}

function fail(...diagnostics: Diagnostic[]): LoadResult {
  return { ok: false, diagnostics };
}

type Locate = (
  path: Path,
  severity: Diagnostic['severity'],
  message: string,
  key?: string,
) => Diagnostic;

/** `document` is the whole parsed YAML, for the keys allowed where a key is unknown. */
function zodDiagnostics(issue: z.core.$ZodIssue, locate: Locate, document: unknown): Diagnostic[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(path, document);
      return issue.keys.map((key) => {
        const guess = allowed.length > 0 ? closest(key, allowed) : undefined;
        const hint =
          guess === undefined
            ? 'remove it'
            : `did you mean "${guess}"? Keys allowed here: ${allowed.join(', ')}`;
        return locate(path, 'error', `unknown key "${key}"; ${hint}`, key);
      });
    }
    case 'invalid_type': {
      const field = path[path.length - 1];
      const message =
        issue.input === undefined
          ? `"${String(field)}" is missing; add it (${describeExpected(issue.expected)})`
          : `expected ${describeExpected(issue.expected)}, found ${describeValue(issue.input)}; write ${describeExpected(issue.expected)} here`;
      return [locate(path, 'error', message)];
    }
    case 'invalid_union': {
      const nested = issue.errors.flat();
      if (issue.input === undefined) {
        return [
          locate(
            path,
            'error',
            `"${String(path[path.length - 1])}" is missing; add it (see docs/config.md)`,
          ),
        ];
      }
      // The options that accepted the input's shape report what is wrong inside it.
      const relevant = issue.errors.filter(
        (option) => !option.every((i) => i.code === 'invalid_type' && i.path.length === 0),
      );
      if (relevant.length > 0) {
        return relevant
          .flat()
          .flatMap((i) => zodDiagnostics({ ...i, path: [...path, ...i.path] }, locate, document));
      }
      if (nested.length > 0 && nested.every((i) => i.code === 'invalid_type')) {
        return [
          locate(
            path,
            'error',
            `found ${describeValue(issue.input)}; see docs/config.md for what this field takes`,
          ),
        ];
      }
      return nested
        .filter((i) => i.code !== 'invalid_type')
        .flatMap((i) => zodDiagnostics({ ...i, path: [...path, ...i.path] }, locate, document));
    }
    case 'invalid_key':
      return issue.issues.map((i) => locate(path, 'error', i.message));
    default:
      return [locate(path, 'error', issue.message)];
  }
}

function describeExpected(expected: string): string {
  const names: Record<string, string> = {
    string: 'a text',
    number: 'a number',
    object: 'a mapping of keys to values',
    array: 'a list',
    record: 'a mapping of names to entries',
  };
  return names[expected] ?? expected;
}

function describeValue(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Keys the schema allows for the object at `path` (for "did you mean"). The
 * input is walked alongside the schema: a union of mappings (a selector, told
 * apart by its provider) lists the keys of the option the input chose.
 */
function allowedKeys(path: Path, input: unknown): string[] {
  let schema: unknown = configSchema;
  let value = input;
  const segments = [...path, undefined];
  for (let i = 0; i < segments.length;) {
    const segment = segments[i];
    schema = unwrap(schema);
    const def = defOf(schema);
    if (def?.type === 'union') {
      const options = (def.options as unknown[]).map(unwrap);
      schema = chooseOption(
        options,
        typeof def.discriminator === 'string' ? def.discriminator : undefined,
        segment,
        value,
      );
      if (schema === undefined) return [];
      continue;
    }
    i++;
    if (def?.type === 'object') {
      const shape = def.shape as Record<string, unknown>;
      if (segment === undefined) return Object.keys(shape);
      schema = shape[String(segment)];
    } else if (def?.type === 'record') {
      schema = def.valueType;
    } else if (def?.type === 'array') {
      schema = def.element;
    } else {
      return [];
    }
    value = segment === undefined ? undefined : childOf(value, segment);
  }
  return [];
}

/**
 * The option of a union that `value` walks into: by the discriminator's value
 * when the union has one (a selector's provider), else a list for an index and a
 * mapping for a key.
 */
function chooseOption(
  options: readonly unknown[],
  discriminator: string | undefined,
  segment: string | number | undefined,
  value: unknown,
): unknown {
  if (discriminator !== undefined) {
    const chosen = childOf(value, discriminator);
    return options.find((option) => {
      const field = unwrap(
        (defOf(option)?.shape as Record<string, unknown> | undefined)?.[discriminator],
      );
      const values = defOf(field)?.values;
      return Array.isArray(values) && values.includes(chosen);
    });
  }
  const wanted = typeof segment === 'number' || Array.isArray(value) ? 'array' : 'object';
  // A mapping may also lead into a union of mappings (one selector among several kinds).
  return (
    options.find((o) => defOf(o)?.type === wanted) ??
    (wanted === 'object' ? options.find((o) => defOf(o)?.type === 'union') : undefined)
  );
}

function childOf(value: unknown, segment: string | number): unknown {
  return typeof value === 'object' && value !== null
    ? (value as Record<string, unknown>)[segment]
    : undefined;
}

interface SchemaDef {
  readonly type: string;
  readonly self: unknown;
  readonly [key: string]: unknown;
}

function defOf(schema: unknown): SchemaDef | undefined {
  const def = (schema as { _zod?: { def?: Record<string, unknown> } } | undefined)?._zod?.def;
  return def === undefined ? undefined : { ...def, type: String(def.type), self: schema };
}

/** Looks through optional, default, pipe and transform wrappers to the schema that holds the shape. */
function unwrap(schema: unknown): unknown {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def === undefined) return current;
    if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable')
      current = def.innerType;
    // A transform's shape is its input's; a pipe into a schema (a selector checked by
    // its provider, then as that provider's) has the shape of where it leads.
    else if (def.type === 'pipe') current = defOf(def.out)?.type === 'transform' ? def.in : def.out;
    else return current;
  }
}

/** Offset in the text of the node at `path`, or of its nearest ancestor that exists. */
function offsetOf(doc: Document, path: Path, pointAtKey: boolean): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (const [index, segment] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (pair === undefined) break;
      const last = index === path.length - 1;
      // A whole mapping or list is named by its key; a scalar by its value.
      const named = pointAtKey || isMap(pair.value) || isSeq(pair.value);
      const target = (last && named) || pair.value === null ? pair.key : pair.value;
      offset = (target as Node | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      offset = (item as Node).range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

export function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.column}` : d.file;
  const path = d.path === '' ? '' : `${d.path}: `;
  return `${where}: ${d.severity}: ${path}${d.message}`;
}
