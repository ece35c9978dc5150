/**
 * Every `curl` example in docs/*.md and README.md, run in order against a real
 * `lightsout demo`, so the documentation cannot rot: an example answers 2xx, or
 * exactly the status its next line announces (`# answers 409 ...`). A line of a
 * code block that mentions curl but is not a form read here fails the test, so a
 * new example is picked up, never skipped.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'shell-quote';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../src/api/openapi.js';
import { stopProcess, waitFor } from '../process/serve.js';

interface Example {
  readonly where: string;
  /** The curl command line, as a shell would read it. */
  readonly command: string;
  /** `NAME=$(curl ... | jq -r .FIELD)`: the answer's FIELD becomes $NAME. */
  readonly capture?: { readonly variable: string; readonly field: string };
  /** The status announced on the next line; absent: any 2xx. */
  readonly expected?: number;
}

const CAPTURE = /^(\w+)=\$\((curl\s.*?)\s*\|\s*jq -r \.(\w+)\)$/;
const ANNOUNCED = /^# answers (\d{3})\b/;

/** The curl examples of one Markdown file, in order. */
export function examplesOf(file: string, text: string): Example[] {
  const lines = text.split('\n');
  const examples: Example[] = [];
  let inBlock = false;
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line.startsWith('```')) {
      inBlock = !inBlock;
      return;
    }
    if (!inBlock || !/\bcurl\b/.test(line) || line.startsWith('#')) return;
    const where = `${file}:${index + 1}`;
    const announced = ANNOUNCED.exec(lines[index + 1]?.trim() ?? '')?.[1];
    const expected = announced === undefined ? {} : { expected: Number(announced) };
    const capture = CAPTURE.exec(line);
    if (capture !== null)
      examples.push({
        where,
        command: capture[2]!,
        capture: { variable: capture[1]!, field: capture[3]! },
        ...expected,
      });
    else if (line.startsWith('curl ')) examples.push({ where, command: line, ...expected });
    else throw new Error(`${where}: a curl example this test cannot read: ${line}`);
  });
  return examples;
}

interface HttpCall {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

/** The request a curl command line makes; the flags the examples use, and no others. */
function requestOf(example: Example, variables: Record<string, string>): HttpCall {
  const unknown: string[] = [];
  const words = parse(example.command, (name: string) => {
    if (!(name in variables)) unknown.push(name);
    return variables[name] ?? '';
  });
  if (unknown.length > 0)
    throw new Error(`${example.where}: unknown variable ${unknown.map((n) => `$${n}`).join(', ')}`);
  const headers: Record<string, string> = {};
  let method: string | undefined;
  let body: string | undefined;
  let url: string | undefined;
  const next = (i: number) => {
    const word = words[i];
    if (typeof word !== 'string') throw new Error(`${example.where}: a flag without its value`);
    return word;
  };
  for (let i = 1; i < words.length; i++) {
    const word = words[i];
    if (typeof word !== 'string')
      throw new Error(`${example.where}: shell operators are not read here`);
    if (word === '-s') continue;
    else if (word === '-X') method = next(++i);
    else if (word === '-H') {
      const [name, ...value] = next(++i).split(':');
      headers[name!.trim().toLowerCase()] = value.join(':').trim();
    } else if (word === '-d') body = next(++i);
    else if (word.startsWith('-')) throw new Error(`${example.where}: curl flag ${word} not read`);
    else if (url === undefined) url = word;
    else throw new Error(`${example.where}: a second URL ${word}`);
  }
  if (url === undefined) throw new Error(`${example.where}: no URL`);
  return {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    url,
    headers,
    ...(body === undefined ? {} : { body }),
  };
}

const DOCS = [
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join('docs', f)),
  'README.md',
];

/** Like `date -u -d '+N hours' +%Y-%m-%dT%H:%M:%SZ`. */
const hoursFromNow = (hours: number) =>
  new Date(Date.now() + hours * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Waits until `environment` lists the resource named `name` (its run has discovered it). */
async function discovered(api: string, token: string, environment: string, name: string) {
  await waitFor(`${environment} to discover ${name}`, async () => {
    const answer = await fetch(`${api}/api/v1/environments/${environment}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { resources } = (await answer.json()) as { resources: { name: string }[] };
    return resources.some((r) => r.name === name);
  });
}

describe('the examples in the documentation', () => {
  const examples = DOCS.flatMap((file) => examplesOf(file, readFileSync(file, 'utf8')));

  it('are found in the docs (the HTTP API has its examples)', () => {
    expect(examples.filter((e) => e.where.startsWith('docs/api.md')).length).toBeGreaterThan(15);
  });

  it('refuse a curl line this test cannot read', () => {
    expect(() => examplesOf('x.md', '```sh\nexport A=$(curl -s $API/x)\n```')).toThrow(
      'x.md:2: a curl example this test cannot read',
    );
  });

  it('answer as they say against a real lightsout demo', { timeout: 120_000 }, async () => {
    const data = mkdtempSync(join(tmpdir(), 'lightsout-docs-'));
    // At speed 1 the demo's clock is the reader's, so "in an hour" is in its future.
    const child = spawn(process.execPath, [
      'dist/cli/main.js',
      'demo',
      '--port',
      '0',
      '--data',
      data,
      '--speed',
      '1',
    ]);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const [, token, api] = await waitFor('the API line', () =>
        Promise.resolve(
          /Bearer (lo_[\w-]+)" (http:\/\/\S+)\/api\/v1\/environments/.exec(output) ?? undefined,
        ),
      );
      const variables: Record<string, string> = {
        API: api!,
        TOKEN: token!,
        SOON: hoursFromNow(1),
        LATER: hoursFromNow(3),
      };
      const outcomes: string[] = [];
      const called: string[] = [];
      for (const example of examples) {
        const call = requestOf(example, variables);
        called.push(`${call.method.toLowerCase()} ${new URL(call.url).pathname}`);
        // /provision finds instances lightsout has discovered, as its example says: the run
        // the extend of dev (an example before it) starts discovers them, a moment later.
        if (call.url.endsWith('/provision')) await discovered(api!, token!, 'dev', 'dev-web-1');
        const response = await fetch(call.url, {
          method: call.method,
          headers: call.headers,
          ...(call.body === undefined ? {} : { body: call.body }),
        });
        const text = await response.text();
        const wanted =
          example.expected === undefined
            ? response.status >= 200 && response.status < 300
            : response.status === example.expected;
        outcomes.push(
          wanted ? 'as documented' : `${example.where}: ${response.status} ${text.slice(0, 300)}`,
        );
        if (example.capture !== undefined) {
          const value = (JSON.parse(text) as Record<string, unknown>)[example.capture.field];
          if (typeof value !== 'string')
            throw new Error(`${example.where}: the answer has no ${example.capture.field}`);
          variables[example.capture.variable] = value;
        }
      }
      expect(outcomes).toEqual(examples.map(() => 'as documented'));
      // Every route of the API reference has an example.
      const paths = openApiDocument('docs').paths as Record<string, Record<string, unknown>>;
      const routes = Object.entries(paths).flatMap(([path, methods]) =>
        Object.keys(methods).map((method) => `${method} ${path}`),
      );
      const shown = (route: string) => {
        const pattern = new RegExp(`^${route.replace(/\{\w+\}/g, '[^/]+')}$`);
        return called.some((c) => pattern.test(c));
      };
      expect(routes.filter((route) => !shown(route))).toEqual([]);
    } finally {
      await stopProcess({ child, port: 0, output: () => output }, 'SIGTERM');
    }
  });
});
