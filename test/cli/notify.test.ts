import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, configFile } from './run.js';

/** A webhook receiver that answers `status` and counts what it got. */
async function receiver(status: number) {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(body);
      response.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/h`, bodies, server };
}

describe('lightsout notify test', () => {
  const servers: { close(): void }[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  const config = (url: string) =>
    configFile(`notifiers:\n  hook: { type: webhook, url: "${url}", secret: s3cr3t-value }\n`);

  it('sends one test message and says it was delivered', async () => {
    const hook = await receiver(204);
    servers.push(hook.server);
    const result = await cli(['notify', 'test', 'hook', '--config', config(hook.url)]);
    expect(result).toMatchObject({ code: 0, out: 'delivered a test message to hook (webhook)' });
    expect(JSON.parse(hook.bodies[0]!)).toMatchObject({
      kind: 'run-summary',
      runId: 'notify-test',
    });
  });

  it('a refusal prints the fix, exit 4, and no secret', async () => {
    const hook = await receiver(404);
    servers.push(hook.server);
    const result = await cli(['notify', 'test', 'hook', '--config', config(hook.url)]);
    expect(result.code).toBe(4);
    expect(result.err).toMatch(/^error: .*hook.*(does not exist|deleted)/);
    expect(result.err + result.out).not.toContain('s3cr3t-value');
    expect(result.err + result.out).not.toContain(hook.url);
  });

  it('an unknown notifier, or a secret that cannot be read, is exit 2 with the fix', async () => {
    const file = configFile(
      'notifiers:\n  team: { type: slack, webhook_url: "${LIGHTSOUT_TEST_UNSET_WEBHOOK}" }\n',
    );
    expect(await cli(['notify', 'test', 'teem', '--config', file])).toMatchObject({
      code: 2,
      err: expect.stringContaining('there is no notifier "teem"') as string,
    });
    expect(await cli(['notify', 'test', 'team', '--config', file])).toMatchObject({
      code: 2,
      err: expect.stringContaining(
        'notifiers.team.webhook_url: the environment variable LIGHTSOUT_TEST_UNSET_WEBHOOK is not set',
      ) as string,
    });
  });
});

describe('a stop on an environment with channels', () => {
  it('prints its warning once, whatever the number of channels it goes to', async () => {
    const config = configFile(`
notifiers:
  a: { type: webhook, url: "http://127.0.0.1:9/a", secret: x }
  b: { type: teams, url: "http://127.0.0.1:9/b" }
environments:
  dev: { notify: [a, b], select: { provider: sandbox, tags: { env: dev } } }
`);
    const db = [
      '--config',
      config,
      '--db',
      `sqlite:${join(mkdtempSync(join(tmpdir(), 'lightsout-notify-')), 'l.db')}`,
    ];
    expect((await cli(['token', 'create', '--name', 'x', '--role', 'admin', ...db])).code).toBe(0);
    const stop = await cli(['stop', 'dev', '--grace', '5m', ...db]);
    expect(stop.code).toBe(0);
    expect(stop.out.split('\n').filter((line) => line.startsWith('dev stops at'))).toHaveLength(1);
  });
});
