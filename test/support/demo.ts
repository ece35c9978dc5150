/**
 * A real `lightsout demo` on a random port with headless Chromium (Debian's,
 * through playwright-core), for the dashboard's end-to-end tests: start both,
 * make tokens of any role and team, sign a page in, check a page with axe-core.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { stopProcess, waitFor } from '../process/serve.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots go here (git-ignored; CI keeps them as artifacts). */
export const ARTIFACTS = 'test-artifacts';

export interface Demo {
  /** http://127.0.0.1:PORT */
  readonly base: string;
  /** The start line's one-time sign-in link. */
  readonly signInLink: string;
  readonly adminToken: string;
  /** sqlite:… of the demo's store, for `lightsout token create --db`. */
  readonly db: string;
  readonly browser: Browser;
  /** Everything the demo printed so far. */
  output(): string;
  /** A new API token of this role (and team), made by the CLI on the demo's store. */
  token(role: 'viewer' | 'operator' | 'admin', team?: string): Promise<string>;
  /** The API as the demo's admin (Bearer token), JSON in and out. */
  api(method: string, path: string, body?: unknown): Promise<Response>;
  stop(): Promise<void>;
}

export async function startDemo(): Promise<Demo> {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const data = mkdtempSync(join(tmpdir(), 'lightsout-web-'));
  const db = `sqlite:${join(data, 'lightsout.db')}`;
  let output = '';
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [
    'dist/cli/main.js',
    'demo',
    '--port',
    '0',
    '--data',
    data,
  ]);
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [, signInLink, base] = await waitFor('the dashboard line', () =>
    Promise.resolve(
      /dashboard: ((http:\/\/[^/\s]+)\/sign-in#code=[\w-]+)/.exec(output) ?? undefined,
    ),
  );
  const adminToken = /Bearer (lo_[\w-]+)"/.exec(output)![1]!;
  // As root (CI), Chromium runs only without its sandbox.
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  let tokens = 0;
  return {
    base: base!,
    signInLink: signInLink!,
    adminToken,
    db,
    browser,
    output: () => output,
    async token(role, team) {
      const args = ['dist/cli/main.js', 'token', 'create', '--config', 'examples/demo.yaml'];
      args.push('--db', db, '--name', `${role}-${team ?? 'all'}-${++tokens}`, '--role', role);
      args.push('--json');
      if (team !== undefined) args.push('--team', team);
      const { stdout } = await promisify(execFile)(process.execPath, args);
      return (JSON.parse(stdout) as { token: string }).token;
    },
    api: (method, path, body) =>
      fetch(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    async stop() {
      await browser.close();
      await stopProcess({ child, port: 0, output: () => output }, 'SIGTERM');
    },
  };
}

/** Signs a page in with an API token on the sign-in page; resolves on the overview. */
export async function signInWith(demo: Demo, page: Page, secret: string): Promise<void> {
  await page.goto(`${demo.base}/`);
  await page.getByLabel('API token').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Environments' }).waitFor();
  await page.locator('tr[data-environment]').first().waitFor();
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** axe-core's violations on the page as it is now, as "rule (nodes)"; [] when none. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  return page.evaluate<string[]>(
    `axe.run().then((r) => r.violations.map((v) => v.id + ' (' + v.nodes.length + ')'))`,
  );
}
