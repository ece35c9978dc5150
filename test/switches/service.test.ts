/**
 * Hooks as `lightsout serve` runs them: read from the config file, their secret
 * from the environment, and requests signed by the snippets docs/switches.md
 * gives (Node, and Python where it is installed) are carried out; the secret is
 * in no log line and no answer.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import type { Service } from '../../src/app/service.js';
import { startService } from '../../src/app/service.js';
import { wallClock } from '../../src/app/stored-clock.js';
import { loadConfigFile } from '../../src/config/load.js';
import { configFile } from '../cli/run.js';
import { DATABASES } from '../store/databases.js';

const SECRET = 'svc-hook-secret-71c0e5d2a9';
const VARIABLE = 'LIGHTSOUT_TEST_HOOK_SECRET';

/** The code block of `language` that follows the heading "## Signed webhooks" in docs/switches.md. */
function documented(language: string): string {
  const docs = readFileSync('docs/switches.md', 'utf8');
  const section = docs.slice(docs.indexOf('## Signed webhooks'));
  const block = new RegExp('```' + language + '\\n([\\s\\S]*?)```').exec(section)?.[1];
  if (block === undefined)
    throw new Error(`docs/switches.md has no ${language} block to sign with`);
  return block;
}

const hasPython = spawnSync('python3', ['--version']).status === 0;
/** Asynchronous: the service answers from this very process, whose loop must keep running. */
const run = promisify(execFile);
const TIMEOUT = { timeout: 20_000, encoding: 'utf8' } as const;

describe.each(DATABASES)('hooks served by lightsout serve, on $name', (database) => {
  let service: Service | undefined;
  const lines: string[] = [];
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    lines.length = 0;
    process.env[VARIABLE] = '';
  });

  async function serve(): Promise<string> {
    process.env[VARIABLE] = SECRET;
    const loaded = await loadConfigFile(
      configFile(`
timezone: UTC
schedules:
  always:
    periods: [{ days: mon-sun, start: '00:00', stop: '24:00' }]
environments:
  dev:
    schedule: always
    grace: 10m
    tiers:
      - { name: apps, select: { provider: sandbox, tags: { env: dev } } }
sandbox:
  resources:
    - { kind: ec2, name: dev-web, tags: { env: dev } }
switches:
  hooks:
    button:
      type: signed
      secret: '\${${VARIABLE}}'
      field: clickType
      when:
        SINGLE: { action: reserve, environment: dev, for: 2h }
        DOUBLE: { action: stop, environment: dev }
`),
    );
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    service = await startService({
      config: loaded.config,
      db: database.url(),
      clock: wallClock(),
      log: createLogger(stream, 'info', 'json'),
      port: 0,
      host: '127.0.0.1',
      settleScale: 0.01,
    });
    return `http://127.0.0.1:${service.port}/hooks/button`;
  }

  it('a request signed as the Node snippet signs it reserves dev, recorded as the hook', async () => {
    const url = await serve();
    const snippet = documented('ts');
    const script = `const secret = ${JSON.stringify(SECRET)}; const url = ${JSON.stringify(url)};
      const answered = []; const realFetch = fetch;
      globalThis.fetch = async (...args) => { const r = await realFetch(...args); answered.push(r.status, await r.text()); return r; };
      ${snippet}
      console.log(JSON.stringify(answered));`;
    const { stdout: out } = await run(
      process.execPath,
      ['--input-type=module', '-e', script],
      TIMEOUT,
    );
    const [status, text] = JSON.parse(out) as [number, string];
    expect(status).toBe(202);
    expect((JSON.parse(text) as { said: string }).said).toMatch(/^dev is reserved: on now until /);
    const reservations = await service!.store.listReservations({ environments: ['dev'] });
    expect(reservations.map((r) => r.actor)).toEqual(['hook:button']);
    expect(lines.join('')).not.toContain(SECRET);
  });

  it.runIf(hasPython)(
    'a request signed as the Python snippet signs it is carried out too',
    async () => {
      const url = await serve();
      const script = `secret = ${JSON.stringify(SECRET)}\nurl = ${JSON.stringify(url)}\n${documented('python')}`;
      await run('python3', ['-c', script], TIMEOUT); // urlopen raises on anything but 2xx
      const reservations = await service!.store.listReservations({ environments: ['dev'] });
      expect(reservations.map((r) => r.actor)).toEqual(['hook:button']);
    },
  );

  it('an unsigned request is 401, says no secret, and does nothing', async () => {
    const url = await serve();
    const response = await fetch(url, { method: 'POST', body: '{"clickType":"DOUBLE"}' });
    const text = await response.text();
    expect(response.status).toBe(401);
    expect(text).not.toContain(SECRET);
    expect(await service!.store.listRuns({ environment: 'dev' })).toEqual(
      expect.not.arrayContaining([expect.objectContaining({ actor: 'hook:button' })]),
    );
    expect(lines.join('')).not.toContain(SECRET);
  });
});
