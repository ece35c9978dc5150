/** Starts the built `lightsout` binary as a real process and talks to it. */
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export interface ServeProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly port: number;
  readonly output: () => string;
}

/** Runs `lightsout serve ...args --port 0` and resolves once it listens; `env` adds to its environment. */
export async function startServe(
  args: readonly string[],
  timeoutMs = 20_000,
  env: Readonly<Record<string, string>> = {},
): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', ...args, '--port', '0'], {
    env: { ...process.env, LIGHTSOUT_LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`serve did not start in time:\n${output}`));
    }, timeoutMs);
    const check = () => {
      const match = /"port":(\d+),"host"/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${output}`));
    });
  });
  return { child, port, output: () => output };
}

export async function stopProcess(
  serve: ServeProcess,
  signal: NodeJS.Signals,
): Promise<number | null> {
  if (serve.child.exitCode !== null || serve.child.signalCode !== null) return serve.child.exitCode;
  const exited = once(serve.child, 'exit');
  serve.child.kill(signal);
  const [code] = (await exited) as [number | null];
  return code;
}

/** Polls `condition` every 50 ms until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  condition: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs the built binary with `args` to its exit, with what it printed. */
export async function runToExit(
  args: readonly string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['dist/cli/main.js', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** Listens on a free port of 127.0.0.1 until `close`, so a process started on it finds it busy. */
export async function holdPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A port of 127.0.0.1 free a moment ago (for a server that cannot be told to pick its own). */
export async function freePort(): Promise<number> {
  const held = await holdPort();
  await held.close();
  return held.port;
}
