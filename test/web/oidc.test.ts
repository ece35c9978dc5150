/**
 * Signing in to the dashboard with OpenID Connect, end to end: a real OpenID
 * provider (oidc-provider, in this process, on a loopback port) and a real
 * `lightsout serve` of the demo's fleet whose config has `api.oidc.sign_in`,
 * driven by headless Chromium through the whole round trip: the button, the
 * issuer's login form, and back on the page asked for with the role and team the
 * config's rules give. Also: a user no rule matches, a cancelled sign-in, a
 * tampered state, a replayed callback, the cookies' attributes, CSRF on changes.
 * Screenshots of the sign-in page go to test-artifacts/ (looked at, not compared).
 */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopProcess, waitFor } from '../process/serve.js';
import { accessibilityViolations, ARTIFACTS, CHROMIUM } from '../support/demo.js';
import type { Issuer } from '../support/oidc-issuer.js';
import { CLIENT_ID, CLIENT_SECRET, startIssuer } from '../support/oidc-issuer.js';

const CALLBACK = '/api/v1/session/oidc/callback';
const PAYMENTS = ['dev', 'staging'];
const ALL = ['batch', 'dev', 'legacy', 'preview', 'staging'];

let issuer: Issuer;
let base: string;
let browser: Browser;
let serve: { child: ChildProcessWithoutNullStreams; port: number; output: () => string };

/** A port free now, for lightsout: the issuer must know the callback before lightsout starts. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  issuer = await startIssuer(0, `${base}${CALLBACK}`);
  const data = mkdtempSync(join(tmpdir(), 'lightsout-oidc-web-'));
  const config = join(data, 'lightsout.yaml');
  writeFileSync(
    config,
    `${readFileSync('examples/demo.yaml', 'utf8')}
public_url: ${base}
api:
  oidc:
    issuer: ${issuer.url}
    audience: lightsout
    jwks_url: ${issuer.url}/jwks
    rules:
      - { claim: groups, value: platform, role: admin }
      - { claim: groups, value: payments-devs, role: operator, team: payments }
    sign_in:
      name: Test ID
      client_id: ${CLIENT_ID}
      client_secret: \${LIGHTSOUT_OIDC_CLIENT_SECRET}
`,
  );
  let output = '';
  const child = spawn(
    process.execPath,
    [
      'dist/cli/main.js',
      'serve',
      '-c',
      config,
      '--db',
      `sqlite:${join(data, 'db')}`,
      '--port',
      `${port}`,
    ],
    {
      env: {
        ...process.env,
        LIGHTSOUT_OIDC_CLIENT_SECRET: CLIENT_SECRET,
        LIGHTSOUT_LOG_LEVEL: 'info',
      },
    },
  );
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end();
  serve = { child, port, output: () => output };
  await waitFor('lightsout to answer', async () => {
    if (child.exitCode !== null) throw new Error(`serve exited:\n${output}`);
    return (await fetch(`${base}/readyz`).catch(() => undefined))?.ok;
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);

afterAll(async () => {
  await browser.close();
  await stopProcess(serve, 'SIGTERM');
  await issuer.stop();
});

/** A fresh browser context; requests to any other host (the issuer's page asks for web fonts) are refused. */
async function freshPage(): Promise<{ context: BrowserContext; page: Page; outside: string[] }> {
  const context = await browser.newContext();
  const outside: string[] = [];
  await context.route(
    (url) => url.hostname !== '127.0.0.1' && url.hostname !== 'localhost',
    (route) => {
      outside.push(route.request().url());
      return route.abort();
    },
  );
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page, outside };
}

/** At the issuer: its development login form (the login is the subject), then its consent. */
async function logInAtIssuer(page: Page, login: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(issuer.url));
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** The names of lightsout's cookies in the browser (the issuer's own are on another site). */
const lightsoutCookies = async (context: BrowserContext): Promise<string[]> =>
  (await context.cookies(base)).map((c) => c.name).filter((n) => n.startsWith('lightsout'));

const shownNames = async (page: Page): Promise<string[]> =>
  (
    await page.evaluate<string[]>(
      `[...document.querySelectorAll('tr[data-environment]')].map((r) => r.dataset.environment)`,
    )
  ).sort();

describe('signing in with OpenID Connect', () => {
  it('goes to the issuer and back to the page asked for, as the role the rules give', async () => {
    const { context, page, outside } = await freshPage();
    // Asked for a page before signing in: the sign-in page offers the issuer.
    await page.goto(`${base}/events?since=1d`);
    const button = page.getByRole('link', { name: 'Sign in with Test ID' });
    await button.waitFor();
    expect(page.url()).toBe(`${base}/sign-in?next=${encodeURIComponent('/events?since=1d')}`);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'sign-in-oidc.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'sign-in-oidc-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });

    // Which requests to lightsout carried the session cookie (the landing's move-on must).
    const withCookie: string[] = [];
    page.on('request', (request) => {
      void request.allHeaders().then((headers) => {
        if ((headers.cookie ?? '').includes('lightsout_session='))
          withCookie.push(new URL(request.url()).pathname);
      });
    });
    await button.click();
    // To the issuer with PKCE (S256), state and nonce.
    await page.waitForURL((url) => url.href.startsWith(issuer.url));
    await logInAtIssuer(page, 'ada');
    await page.waitForURL(`${base}/events?since=1d`);
    await page.locator('header').getByText('ada@example.com · admin').waitFor();

    // The session: HttpOnly, SameSite=Strict, not Secure on plain HTTP; the flow cookie is gone.
    const cookies = (await context.cookies(base)).filter((c) => c.name.startsWith('lightsout'));
    expect(cookies.map((c) => c.name)).toEqual(['lightsout_session']);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
    // The callback's page moved on by itself, same-site, so the page it asked for had the cookie.
    expect(withCookie).toContain('/events');
    expect(withCookie).toContain('/api/v1/session');
    // It lasts session_ttl (12 h by default), not the ID token's hour at this issuer.
    const me = await page.evaluate<{ expiresAt: string; csrfToken: string; team: null }>(
      `fetch('/api/v1/session').then((r) => r.json())`,
    );
    const left = Date.parse(me.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(11 * 3_600_000);
    expect(left).toBeLessThanOrEqual(12 * 3_600_000);
    expect(me.team).toBeNull();

    // An admin sees every environment.
    await page.getByRole('link', { name: 'Environments' }).click();
    await page.locator('tr[data-environment]').first().waitFor();
    expect(await shownNames(page)).toEqual(ALL);

    // Changes need the CSRF token, as with a token's session.
    const reserve = (csrf: string | undefined) =>
      page.evaluate<number>(`fetch('/api/v1/reservations', {
        method: 'POST',
        headers: { 'content-type': 'application/json'${csrf === undefined ? '' : `, 'x-csrf-token': '${csrf}'`} },
        body: JSON.stringify({ environment: 'dev', from: '${new Date(Date.now() + 40 * 86_400_000).toISOString()}', to: '${new Date(Date.now() + 40 * 86_400_000 + 3_600_000).toISOString()}' }),
      }).then((r) => r.status)`);
    expect(await reserve(undefined)).toBe(403);
    expect(await reserve('wrong')).toBe(403);
    expect(await reserve(me.csrfToken)).toBe(201);

    // Signing out ends it.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to lightsout' }).waitFor();
    expect(await page.evaluate<number>(`fetch('/api/v1/environments').then((r) => r.status)`)).toBe(
      401,
    );
    // Only the issuer's page asked for another host (its web fonts); lightsout's never did.
    expect(outside.every((url) => url.startsWith('https://fonts.googleapis.com/'))).toBe(true);
    await context.close();
  }, 90_000);

  it("a team's member sees its team's environments only, also by URL and at the API", async () => {
    const { context, page } = await freshPage();
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Sign in with Test ID' }).click();
    await logInAtIssuer(page, 'pay');
    await page.locator('header').getByText('pay@example.com · operator · team payments').waitFor();
    await page.locator('tr[data-environment]').first().waitFor();
    expect(await shownNames(page)).toEqual(PAYMENTS);
    const statuses = await page.evaluate<number[]>(
      `Promise.all(['/api/v1/environments/batch', '/api/v1/environments/dev'].map((p) => fetch(p).then((r) => r.status)))`,
    );
    expect(statuses).toEqual([404, 200]);
    await context.close();
  }, 60_000);

  it('a user no rule gives a role is refused, and told whom to ask', async () => {
    const { context, page } = await freshPage();
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Sign in with Test ID' }).click();
    await logInAtIssuer(page, 'eve');
    const alert = page.locator('[data-oidc-error="no-role"]');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('no rule of this lightsout gives you a role');
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    expect(await lightsoutCookies(context)).toEqual([]);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'sign-in-oidc-refused.png'), fullPage: true });
    await context.close();
  }, 60_000);

  it('a sign-in cancelled at the issuer comes back saying so', async () => {
    const { context, page } = await freshPage();
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Sign in with Test ID' }).click();
    await page.waitForURL((url) => url.href.startsWith(issuer.url));
    await page.getByRole('link', { name: '[ Cancel ]' }).click();
    await page.locator('[data-oidc-error="access-denied"]').waitFor();
    // Named once the page knows the issuer's name.
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('Test ID did not let you in');
    await context.close();
  }, 60_000);

  it('refuses a callback whose state was tampered with, and a callback used twice', async () => {
    const { context, page } = await freshPage();
    await page.goto(`${base}/`);
    await page.getByRole('link', { name: 'Sign in with Test ID' }).click();
    await page.waitForURL((url) => url.href.startsWith(issuer.url));
    await page.locator('input[name="login"]').fill('ada');
    await page.locator('input[name="password"]').fill('any password');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    // The consent is given outside the page (with the browser's cookies), so the issuer's
    // answer (code and state) is caught before it reaches lightsout.
    const action = (await page.locator('form').first().getAttribute('action'))!;
    let hop = await context.request.post(new URL(action, issuer.url).href, {
      form: { prompt: 'consent' },
      maxRedirects: 0,
    });
    let answer = new URL(hop.headers().location!, issuer.url);
    while (!answer.href.startsWith(base)) {
      hop = await context.request.get(answer.href, { maxRedirects: 0 });
      answer = new URL(hop.headers().location!, answer);
    }
    expect(answer.pathname).toBe(CALLBACK);
    const tampered = new URL(answer);
    tampered.searchParams.set('state', `${answer.searchParams.get('state')!}x`);
    await page.goto(tampered.href);
    await page.locator('[data-oidc-error="state-mismatch"]').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('Sign in again from this page');
    expect(await lightsoutCookies(context)).toEqual([]);
    // The flow was used up by that attempt: the genuine answer, sent now, opens nothing.
    await page.goto(answer.href);
    await page.locator('[data-oidc-error="expired-flow"]').waitFor();
    expect(await lightsoutCookies(context)).toEqual([]);
    await context.close();
  }, 60_000);

  it('the flow cookie: sealed, HttpOnly, SameSite=Lax, for the callback only, Secure over HTTPS', async () => {
    const start = await fetch(`${base}/api/v1/session/oidc?next=%2F%2Fevil.example`, {
      redirect: 'manual',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(start.status).toBe(303);
    const to = new URL(start.headers.get('location')!);
    expect(to.origin).toBe(issuer.url);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('redirect_uri')).toBe(`${base}${CALLBACK}`);
    expect(to.searchParams.get('scope')).toBe('openid email profile');
    for (const name of ['state', 'nonce', 'code_challenge'])
      expect(to.searchParams.get(name)).toMatch(/^[\w-]{32,}$/);
    const cookie = start.headers.get('set-cookie')!;
    expect(cookie).toMatch(
      new RegExp(
        `^lightsout_oidc=[\\w.-]+; Path=${CALLBACK}; HttpOnly; SameSite=Lax; Max-Age=600; Secure$`,
      ),
    );
    // Sealed: neither the verifier nor the state can be read from it.
    expect(cookie).not.toContain(to.searchParams.get('state')!);
    // The public route says which methods exist.
    expect(await (await fetch(`${base}/api/v1/session/methods`)).json()).toEqual({
      token: true,
      oidc: { name: 'Test ID', start: '/api/v1/session/oidc' },
    });
  });
});
