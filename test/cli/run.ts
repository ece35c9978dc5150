import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/cli/program.js';
import { at } from '../helpers.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the CLI in-process with a fixed clock (default Monday 2026-06-01 00:00 UTC). */
export async function cli(args: string[], now = at('2026-06-01T00:00Z')): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    now: () => now,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Writes `text` to a fresh lightsout.yaml and returns its path. */
export function configFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'lightsout-')), 'lightsout.yaml');
  writeFileSync(file, text);
  return file;
}
