/**
 * The command provider: anything with a shell interface (on-premises VMs,
 * Proxmox, Docker hosts, scripts) driven by the user's own start, stop and status
 * commands. Each runs without a shell unless asked, with a timeout, with
 * environment variables naming the resource and the action, and its output is
 * returned (truncated, secrets masked) for the event log.
 */
import { execFile } from 'node:child_process';
import type { PowerState, Selector } from '../../core/glossary.js';
import type { ActOutcome, Observed, Provider, Resource } from '../../engine/ports.js';
import type { CommandTarget } from './command-line.js';
import { parseCommandLine } from './command-line.js';

/** Output kept per command, from its end (the part that says what went wrong). */
export const OUTPUT_LIMIT = 2_000;

export interface CommandResult {
  readonly exitCode: number | null;
  readonly timedOut: boolean;
  readonly output: string;
}

export class CommandProvider implements Provider {
  readonly name = 'command';
  private readonly targets = new Map<string, CommandTarget>();
  /** States set by successful commands, for targets without a status command. */
  private readonly lastSet = new Map<string, PowerState>();

  discover(selector: Selector): Promise<Resource[]> {
    const targets = (selector.settings?.targets ?? {}) as Record<string, CommandTarget>;
    return Promise.resolve(
      Object.entries(targets).map(([name, target]) => {
        const id = `command:${name}`;
        this.targets.set(id, target);
        return { id, provider: 'command', kind: 'command', name, tags: {} };
      }),
    );
  }

  async observe(resources: readonly Resource[]): Promise<Map<string, Observed>> {
    const states = new Map<string, Observed>();
    await Promise.all(
      resources.map(async (resource) => {
        const target = this.targets.get(resource.id);
        if (target === undefined) return states.set(resource.id, 'missing');
        if (target.status === undefined)
          return states.set(resource.id, this.lastSet.get(resource.id) ?? 'off');
        const result = await this.run(resource, target, target.status, 'status');
        if (result.timedOut)
          return states.set(
            resource.id,
            this.lastSet.get(resource.id) === 'on' ? 'stopping' : 'starting',
          );
        const running =
          target.runningWhen === undefined
            ? result.exitCode === 0
            : lastLine(result.output) === target.runningWhen.trim();
        return states.set(resource.id, running ? 'on' : 'off');
      }),
    );
    return states;
  }

  async act(resources: readonly Resource[], targetState: PowerState): Promise<ActOutcome[]> {
    return Promise.all(
      resources.map(async (resource): Promise<ActOutcome> => {
        const target = this.targets.get(resource.id);
        if (target === undefined)
          return {
            id: resource.id,
            result: 'failed',
            reason: `no command target "${resource.name}"`,
          };
        const action = targetState === 'on' ? 'start' : 'stop';
        const result = await this.run(resource, target, target[action], action);
        if (result.timedOut) {
          const reason = `${action} command timed out after ${target.timeoutMs / 1000}s`;
          return { id: resource.id, result: 'transient', reason, output: result.output };
        }
        if (result.exitCode !== 0) {
          const reason = `${action} command exited with ${String(result.exitCode)}: ${lastLine(result.output) || 'no output'}`;
          return { id: resource.id, result: 'failed', reason, output: result.output };
        }
        this.lastSet.set(resource.id, targetState);
        return { id: resource.id, result: 'accepted', output: result.output };
      }),
    );
  }

  settleTimeoutMs(): number {
    return 10 * 60_000;
  }

  private run(
    resource: Resource,
    target: CommandTarget,
    command: string,
    action: string,
  ): Promise<CommandResult> {
    const env = {
      ...process.env,
      ...target.env,
      LIGHTSOUT_RESOURCE: resource.name,
      LIGHTSOUT_RESOURCE_ID: resource.id,
      LIGHTSOUT_ACTION: action,
    };
    const [file, ...args] = target.shell ? ['/bin/sh', '-c', command] : words(command);
    return new Promise((resolve) => {
      execFile(
        file!,
        args,
        {
          env,
          timeout: target.timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: 1024 * 1024,
          windowsHide: true,
        },
        (error, stdout, stderr) => {
          // Masked whole, then cut: a secret across the cut would leave its tail unmasked.
          const output = mask(`${stdout}${stderr}`, Object.values(target.env)).slice(-OUTPUT_LIMIT);
          const failure = error as
            (NodeJS.ErrnoException & { killed?: boolean; code?: unknown }) | null;
          const exitCode =
            failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null;
          const notFound = failure?.code === 'ENOENT' ? `${file!}: command not found` : '';
          resolve({ exitCode, timedOut: failure?.killed === true, output: notFound || output });
        },
      );
    });
  }
}

function words(command: string): string[] {
  const parsed = parseCommandLine(command);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

function lastLine(output: string): string {
  return output.trim().split('\n').at(-1)?.trim() ?? '';
}

/** Replaces every secret value (at least 4 characters long) with ***. */
export function mask(text: string, secrets: readonly string[]): string {
  return secrets
    .filter((s) => s.length >= 4)
    .reduce((masked, secret) => masked.split(secret).join('***'), text);
}
