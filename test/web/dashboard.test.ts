/**
 * The dashboard end to end: a real `lightsout demo` on a random port, driven by
 * headless Chromium (Debian's, through playwright-core). Signs in with the demo's
 * one-time link and with tokens of each kind, reads the overview, filters it,
 * signs out; and checks at the API that a session changes nothing without its
 * CSRF token and that a viewer's or a team's session gets only what its token may.
 * A screenshot of the overview goes to test-artifacts/ (looked at, not compared).
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Demo } from '../support/demo.js';
import {
  accessibilityViolations,
  ARTIFACTS,
  signInWith as signInAt,
  startDemo,
} from '../support/demo.js';

const ALL = ['batch', 'dev', 'legacy', 'preview', 'staging'];

let demo: Demo;
let base: string;
let signInLink: string;
let adminToken: string;
let browser: Browser;

const token = (role: 'viewer' | 'operator' | 'admin', team?: string) => demo.token(role, team);
const signInWith = (page: Page, secret: string) => signInAt(demo, page, secret);

/** The environments the overview lists, sorted (the suite has no DOM types: strings run in the page). */
const shownNames = async (page: Page): Promise<string[]> =>
  (
    await page.evaluate<string[]>(
      `[...document.querySelectorAll('tr[data-environment]')].map((r) => r.dataset.environment)`,
    )
  ).sort();

beforeAll(async () => {
  demo = await startDemo();
  ({ base, signInLink, adminToken, browser } = demo);
}, 60_000);

afterAll(async () => {
  await demo.stop();
});

describe('the dashboard', () => {
  it("opens from the demo's one-time link, shows every environment by team, filters, signs out", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(base)) outside.push(r.url());
    });
    await page.goto(signInLink);
    await page.getByRole('heading', { name: 'Environments' }).waitFor();
    await page.locator('tr[data-environment]').first().waitFor();
    // The code is gone from the address bar, and a second use is refused.
    expect(page.url()).toBe(`${base}/`);
    expect(await shownNames(page)).toEqual(ALL);
    expect(await page.getByRole('heading', { level: 2 }).allTextContents()).toEqual([
      'data',
      'growth',
      'payments',
    ]);
    await expect(page.locator('header').textContent()).resolves.toContain('demo-admin · admin');
    // Each row: a state of the five, and its next transition labelled with its zone.
    for (const text of await page.locator('.state').allTextContents())
      expect(['on', 'off', 'starting', 'stopping', 'failed']).toContain(text);
    expect(await page.locator('tr[data-environment="dev"] time').textContent()).toMatch(/\(UTC\)$/);
    expect(await page.locator('tr[data-environment="dev"]').textContent()).toMatch(
      /(starts|stops) in /,
    );

    // The cookie: HttpOnly, SameSite=Strict, not Secure on plain HTTP.
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'lightsout_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.secure).toBe(false);
    expect(await page.evaluate('document.cookie')).toBe('');

    // A stop in its grace shows as stopping (from the environment's newest run).
    const stop = await fetch(`${base}/api/v1/environments/staging/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ grace: '24h' }),
    });
    expect(stop.status).toBe(202);
    await page.reload();
    await expect
      .poll(() => page.locator('tr[data-environment="staging"] .state').textContent())
      .toBe('stopping');

    await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'overview-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 720 });

    // Accessibility: axe-core in the page finds no violation.
    expect(await accessibilityViolations(page)).toEqual([]);

    // Filters: by text, by team, by state; then nothing matches, and clearing shows all.
    await page.getByLabel('Name').fill('sta');
    expect(await shownNames(page)).toEqual(['staging']);
    await page.getByLabel('Name').fill('');
    await page.getByLabel('Team').selectOption('growth');
    expect(await shownNames(page)).toEqual(['legacy', 'preview']);
    const legacyState = await page.locator('tr[data-environment="legacy"] .state').textContent();
    await page.getByLabel('State').selectOption(legacyState === 'off' ? 'failed' : 'off');
    await page.getByLabel('Name').fill('no-such');
    await page.getByText('No environment matches these filters.').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    expect(await shownNames(page)).toEqual(ALL);

    // Signing out ends the session: the API refuses the cookie's requests.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to lightsout' }).waitFor();
    expect(page.url()).toBe(`${base}/sign-in`);
    const after = await page.evaluate(async () => (await fetch('/api/v1/environments')).status);
    expect(after).toBe(401);

    // The link was for one use.
    const again = await context.newPage();
    await again.goto(signInLink);
    const refused = again.getByRole('alert').filter({ hasText: 'Sign-in failed' });
    await refused.waitFor({ timeout: 10_000 });
    expect(await refused.textContent()).toContain('this sign-in link was used already');
    expect(again.url()).toBe(`${base}/sign-in`);
    expect(outside).toEqual([]);
    await context.close();
  }, 90_000);

  it("a viewer sees every environment; a team's token sees its team's only, also at the API", async () => {
    const viewer = await token('viewer');
    const growth = await token('operator', 'growth');

    const page = await browser.newPage();
    await signInWith(page, viewer);
    expect(await shownNames(page)).toEqual(ALL);
    await page.close();

    const context = await browser.newContext();
    const teamPage = await context.newPage();
    await signInWith(teamPage, growth);
    expect(await shownNames(teamPage)).toEqual(['legacy', 'preview']);
    // Even by a direct request with the session, another team's environment does not exist.
    const direct = await teamPage.evaluate(async () => {
      const one = await fetch('/api/v1/environments/dev');
      return one.status;
    });
    expect(direct).toBe(404);
    await context.close();
  }, 60_000);

  it('a wrong token is refused with what to do; the page says so', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/sign-in`);
    await page.getByLabel('API token').fill('lo_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('this token is unknown or revoked');
    await page.close();
  });

  it('the API refuses a change with a session but no or a wrong CSRF token, and takes it with the right one', async () => {
    const viewerSession = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: await token('operator') }),
    });
    expect(viewerSession.status).toBe(200);
    const setCookie = viewerSession.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    const cookie = setCookie.split(';')[0]!;
    const { csrfToken } = (await viewerSession.json()) as { csrfToken: string };
    const reserve = (headers: Record<string, string>) =>
      fetch(`${base}/api/v1/reservations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, ...headers },
        body: JSON.stringify({
          environment: 'dev',
          from: new Date(Date.now() + 86_400_000 * 30).toISOString(),
          to: new Date(Date.now() + 86_400_000 * 30 + 3_600_000).toISOString(),
        }),
      });
    const none = await reserve({});
    expect(none.status).toBe(403);
    expect(((await none.json()) as { type: string }).type).toMatch(/csrf-token-missing$/);
    expect((await reserve({ 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect((await reserve({ 'x-csrf-token': `${csrfToken.slice(1)}x` })).status).toBe(403);
    // Reading needs no CSRF token; no session at all is 401.
    expect((await fetch(`${base}/api/v1/environments`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${base}/api/v1/environments`)).status).toBe(401);
    // A forged cookie is no session.
    const forged = await fetch(`${base}/api/v1/environments`, {
      headers: { cookie: 'lightsout_session=eyJhbGciOiJkaXIifQ..x.y.z' },
    });
    expect(forged.status).toBe(401);
    // With it, the change goes through: the session acts with its token's role.
    expect((await reserve({ 'x-csrf-token': csrfToken })).status).toBe(201);
  });

  it("a viewer's session may not change anything, CSRF token or not", async () => {
    const answer = await fetch(`${base}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: await token('viewer') }),
    });
    const cookie = answer.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await answer.json()) as { csrfToken: string };
    const start = await fetch(`${base}/api/v1/environments/dev/start`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrfToken },
    });
    expect(start.status).toBe(403);
    expect(((await start.json()) as { type: string }).type).toMatch(/forbidden$/);
  });

  it('serves hashed assets for a year and the page for revalidation, at every client route', async () => {
    const page = await fetch(`${base}/sign-in`);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    // Plain HTTP on a private address must load its own scripts, not ask for HTTPS.
    expect(csp).not.toContain('upgrade-insecure-requests');
    const html = await page.text();
    const script = /src="(\/assets\/[\w-]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(`${base}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    // The API keeps its own not-found answers.
    expect((await fetch(`${base}/api/v1/nothing`)).status).toBe(404);
  });
});
