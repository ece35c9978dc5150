import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) =>
  spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });

describe('the lightsout binary', () => {
  it('plans the worked example as JSON', () => {
    const result = run(
      'plan',
      '--config',
      'examples/lightsout.yaml',
      '--from',
      '2026-12-21',
      '--to',
      '2026-12-22',
      '--json',
    );
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const plan = JSON.parse(result.stdout) as {
      environments: Record<string, { initial: string; transitions: unknown[] }>;
    };
    expect(Object.keys(plan.environments)).toEqual(['dev', 'staging', 'batch', 'qa', 'demo']);
    // dev is held off until January; staging follows its Paris office hours.
    expect(plan.environments.dev).toEqual({ initial: 'off', transitions: [] });
    expect(plan.environments.staging).toEqual({
      initial: 'off',
      transitions: [
        { at: '2026-12-21T06:00:00.000Z', state: 'on' },
        { at: '2026-12-21T18:00:00.000Z', state: 'off' },
      ],
    });
  });

  it('exits non-zero with the error on stderr for a bad config', () => {
    const result = run('lint', '--config', 'package.json');
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('package.json:');
  });

  it('prints its version and help', () => {
    expect(run('--version').stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(run('--help').stdout).toContain('plan [options]');
  });

  it('from another directory, a relative --db that names no store is refused in one line with its absolute path', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'lightsout-elsewhere-'));
    const config = resolve('examples/demo.yaml');
    const result = spawnSync(
      process.execPath,
      [
        resolve('dist/cli/main.js'),
        'status',
        '--config',
        config,
        '--db',
        'sqlite:lightsout-demo/lightsotu.db',
      ],
      { encoding: 'utf8', cwd: elsewhere },
    );
    const file = join(elsewhere, 'lightsout-demo/lightsotu.db');
    expect(result.stderr).toBe(
      `error: no store at ${file}; start one with: node ${resolve('dist/cli/main.js')} serve --config ${config} --db sqlite:${file} (or pass --db)\n`,
    );
    expect(result.status).toBe(2);
    expect(existsSync(file)).toBe(false);
  });

  it('serve in a directory that is not there says so in one line, exit 2', () => {
    const missing = join(mkdtempSync(join(tmpdir(), 'lightsout-')), 'nowhere', 'lightsout.db');
    const result = run('serve', '--config', 'examples/demo.yaml', '--db', `sqlite:${missing}`);
    expect(result.stderr).toBe(
      `error: no directory ${dirname(missing)} for the store ${missing}; create it, or pass another --db\n`,
    );
    expect(result.status).toBe(2);
  });

  it('serve with a notifier secret it cannot read says which in one line, exit 2, and opens no store', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lightsout-'));
    const config = join(dir, 'lightsout.yaml');
    writeFileSync(
      config,
      'notifiers:\n  mail: { type: email, host: smtp.example.com, from: a@example.com, to: b@example.com, password: "file:/nowhere/smtp" }\n',
    );
    const db = join(dir, 'lightsout.db');
    const result = run('serve', '--config', config, '--db', `sqlite:${db}`, '--port', '0');
    expect(result.stderr).toBe(
      'error: notifiers.mail.password: cannot read the secret file /nowhere/smtp (ENOENT); mount it there or fix the path\n',
    );
    expect(result.status).toBe(2);
    expect(existsSync(db)).toBe(false);
  });

  it('a log format it does not know is refused in one line, exit 2', () => {
    const result = spawnSync(
      process.execPath,
      ['dist/cli/main.js', 'serve', '--config', 'examples/demo.yaml'],
      { encoding: 'utf8', env: { ...process.env, LIGHTSOUT_LOG_FORMAT: 'yaml' } },
    );
    expect(result.stderr).toBe(
      'error: LIGHTSOUT_LOG_FORMAT="yaml" is not a log format; set it to json or pretty, or unset it\n',
    );
    expect(result.status).toBe(2);
  });
});
