/** The command provider with real child processes, alone and through the engine. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Selector } from '../../src/core/glossary.js';
import type { CommandTarget } from '../../src/providers/command/command-line.js';
import { CommandProvider, mask, OUTPUT_LIMIT } from '../../src/providers/command/command.js';
import type { Store } from '../../src/store/store.js';
import { parseConfig } from '../../src/config/load.js';
import { harness } from '../engine/harness.js';
import { DATABASES } from '../store/databases.js';

const dir = () => mkdtempSync(join(tmpdir(), 'lightsout-cmd-'));

function target(
  partial: Partial<CommandTarget> & Pick<CommandTarget, 'start' | 'stop'>,
): CommandTarget {
  return { timeoutMs: 5_000, shell: false, env: {}, ...partial };
}

async function discovered(provider: CommandProvider, targets: Record<string, CommandTarget>) {
  const selector: Selector = { provider: 'command', kinds: ['command'], settings: { targets } };
  return provider.discover(selector);
}

describe('the command provider', () => {
  it('starts and stops with the commands, and reads the state from status', async () => {
    const state = join(dir(), 'running');
    const provider = new CommandProvider();
    const [box] = await discovered(provider, {
      'build-box': target({
        start: `touch ${state}`,
        stop: `rm -f ${state}`,
        status: `test -e ${state}`,
      }),
    });
    expect(box).toMatchObject({ id: 'command:build-box', kind: 'command' });
    expect((await provider.observe([box!])).get(box!.id)).toBe('off');
    expect(await provider.act([box!], 'on')).toEqual([
      { id: box!.id, result: 'accepted', output: '' },
    ]);
    expect(existsSync(state)).toBe(true);
    expect((await provider.observe([box!])).get(box!.id)).toBe('on');
    await provider.act([box!], 'off');
    expect((await provider.observe([box!])).get(box!.id)).toBe('off');
  });

  it('maps status output with running_when, and passes the resource in the environment', async () => {
    const out = join(dir(), 'seen');
    const provider = new CommandProvider();
    const [vm] = await discovered(provider, {
      vm: target({
        start: `sh -c 'echo "$LIGHTSOUT_ACTION $LIGHTSOUT_RESOURCE" > ${out}'`,
        stop: 'true',
        status: 'echo running',
        runningWhen: 'running',
        shell: true,
      }),
    });
    await provider.act([vm!], 'on');
    expect(readFileSync(out, 'utf8').trim()).toBe('start vm');
    expect((await provider.observe([vm!])).get(vm!.id)).toBe('on');
  });

  it('reports a failing command as failed, with its exit code and last line', async () => {
    const provider = new CommandProvider();
    const [box] = await discovered(provider, {
      box: target({
        start: "sh -c 'echo domain not found >&2; exit 3'",
        stop: 'true',
        shell: true,
      }),
    });
    expect(await provider.act([box!], 'on')).toEqual([
      {
        id: box!.id,
        result: 'failed',
        reason: 'start command exited with 3: domain not found',
        output: 'domain not found\n',
      },
    ]);
  });

  it('reports a command that does not exist', async () => {
    const provider = new CommandProvider();
    const [box] = await discovered(provider, {
      box: target({ start: 'no-such-program-lightsout', stop: 'true' }),
    });
    const [outcome] = await provider.act([box!], 'on');
    expect(outcome).toMatchObject({
      result: 'failed',
      reason: 'start command exited with null: no-such-program-lightsout: command not found',
    });
  });

  it('kills a command that runs past its timeout, and calls it transient', async () => {
    const provider = new CommandProvider();
    const [box] = await discovered(provider, {
      box: target({ start: 'sleep 10', stop: 'true', timeoutMs: 200 }),
    });
    const started = Date.now();
    const [outcome] = await provider.act([box!], 'on');
    expect(outcome).toMatchObject({
      result: 'transient',
      reason: 'start command timed out after 0.2s',
    });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('masks secret values in output', () => {
    expect(mask('token=s3cr3t-value ok', ['s3cr3t-value'])).toBe('token=*** ok');
  });

  it('masks a secret before cutting the output, so none of one across the cut is kept', async () => {
    const secret = 'tok-1234567890';
    // The secret, then enough output that the last OUTPUT_LIMIT characters begin inside it.
    const tail = OUTPUT_LIMIT - secret.length / 2;
    const provider = new CommandProvider();
    const [box] = await discovered(provider, {
      box: target({
        start: `${process.execPath} -e 'process.stdout.write(process.env.API_TOKEN + "x".repeat(${tail}))'`,
        stop: 'true',
        env: { API_TOKEN: secret },
      }),
    });
    const [outcome] = await provider.act([box!], 'on');
    const output = outcome?.output ?? '';
    expect(output.slice(0, 10)).toBe('***xxxxxxx');
    expect(output).toBe(`***${'x'.repeat(tail)}`);
  });
});

describe('command targets in the config', () => {
  it('refuse shell syntax without shell: true', () => {
    const result = parseConfig(
      'environments:\n  dev:\n    select:\n      provider: command\n      targets:\n        box: { start: "virsh start box | tee log", stop: "virsh shutdown box" }\n',
      'x.yaml',
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.diagnostics[0]?.message).toBe(
        '"virsh start box | tee log" uses shell syntax (|); set shell: true to run it through /bin/sh, or write it as plain words',
      );
      expect(result.diagnostics[0]?.path).toBe('environments.dev.select.targets.box.start');
    }
  });

  it('refuse an unknown provider with the list', () => {
    const result = parseConfig(
      'environments:\n  dev:\n    select: { provider: vmware }\n',
      'x.yaml',
    );
    expect(result.ok ? '' : result.diagnostics[0]?.message).toContain(
      'provider is one of sandbox, command',
    );
  });
});

describe.each(DATABASES)('command targets through the engine on $name', (database) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });

  const environment = (targets: Record<string, CommandTarget>) => ({
    name: 'lab',
    timezone: 'UTC',
    graceMs: 0,
    tiers: [
      {
        name: 'hosts',
        select: [{ provider: 'command', kinds: ['command'], settings: { targets } }],
      },
    ],
  });

  it('records the output of a command as an event, secrets masked', async () => {
    store = await database.open();
    const h = await harness(store, {
      environments: [
        environment({
          box: target({
            start: 'echo started with $API_TOKEN',
            stop: 'true',
            shell: true,
            env: { API_TOKEN: 'tok-123456' },
          }),
        }),
      ],
      seeds: [],
      // Off when lightsout first sees it (adopted as it is), then held on from noon.
      holds: [
        {
          environment: 'lab',
          state: 'on',
          from: Date.parse('2026-06-01T12:00Z'),
          until: Date.parse('2026-06-02T00:00Z'),
        },
      ],
      start: '2026-06-01T12:00Z',
      providers: new Map([['command', new CommandProvider()]]),
    });
    await h.tickAt('2026-06-01T11:59Z');
    await h.tickAt('2026-06-01T12:00Z');
    const [output] = (await store.queryEvents({ kind: 'resource.output' })).events;
    expect(output?.payload).toEqual({
      action: 'start',
      result: 'accepted',
      output: 'started with ***\n',
    });
  });

  it('fails a target whose status never reaches the state, by name', async () => {
    store = await database.open();
    const h = await harness(store, {
      environments: [
        environment({ box: target({ start: 'true', stop: 'true', status: 'false' }) }),
      ],
      seeds: [],
      // Off when lightsout first sees it (adopted as it is), then held on from noon.
      holds: [
        {
          environment: 'lab',
          state: 'on',
          from: Date.parse('2026-06-01T12:00Z'),
          until: Date.parse('2026-06-02T00:00Z'),
        },
      ],
      start: '2026-06-01T12:00Z',
      pollMs: 120_000,
      providers: new Map([['command', new CommandProvider()]]),
    });
    await h.tickAt('2026-06-01T11:59Z');
    await h.tickAt('2026-06-01T12:00Z');
    const [run] = await store.listRuns({ environment: 'lab' });
    expect(run?.status).toBe('failed');
    const [step] = await store.listSteps(run!.id);
    expect(step).toMatchObject({
      resource: 'command:box',
      status: 'failed',
      error: 'did not reach on in time (last seen off)',
    });
  });
});
