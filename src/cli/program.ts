import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { lintCommand } from './lint.js';
import { planCommand } from './plan.js';
import { DEFAULT_DB, demoCommand, serveCommand } from './serve.js';
import type { DemoOptions, ServeOptions } from './serve.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';

// src/cli and dist/cli both sit two levels below package.json.
const { version: VERSION } = createRequire(import.meta.url)('../../package.json') as {
  version: string;
};

/** Runs the `lightsout` command line with `args` (without node and script) and returns the exit code. */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('lightsout')
    .description(
      'Turns cloud environments off when nobody needs them and back on when somebody does.',
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => {
        io.out(s.trimEnd());
      },
      writeErr: (s) => {
        io.err(s.trimEnd());
      },
    });

  program
    .command('plan')
    .description(
      'show the desired state of each environment and its transitions in a window (default: now to now + 7 days)',
    )
    .requiredOption('-c, --config <file>', 'the lightsout.yaml to read')
    .option(
      '--from <iso>',
      'start of the window (ISO 8601; without an offset, in the config timezone)',
    )
    .option('--to <iso>', 'end of the window, exclusive (default: --from + 7 days)')
    .addOption(new Option('--env <name...>', 'only these environments'))
    .option(
      '--json',
      'print JSON: {"environments": {NAME: {"initial", "transitions": [{"at", "state"}]}}}',
    )
    .action(
      async (options: {
        config: string;
        from?: string;
        to?: string;
        env?: string[];
        json?: boolean;
      }) => {
        code = await planCommand(options, io);
      },
    );

  program
    .command('lint')
    .description(
      'check a config: errors exit 1; warnings for likely mistakes are printed with their fix and exit 0',
    )
    .requiredOption('-c, --config <file>', 'the lightsout.yaml to check')
    .action(async (options: { config: string }) => {
      code = await lintCommand(options, io);
    });

  program
    .command('serve')
    .description(
      'run lightsout: reconcile environments and serve /healthz and /readyz (stops gracefully on SIGTERM)',
    )
    .requiredOption('-c, --config <file>', 'the lightsout.yaml to run')
    .option(
      '--db <url>',
      'sqlite:PATH or postgres://USER:PASSWORD@HOST/DATABASE[?schema=NAME]',
      DEFAULT_DB,
    )
    .option('--port <port>', 'HTTP port', '8080')
    .option('--host <host>', 'HTTP address to listen on', '127.0.0.1')
    .option('--replica-id <id>', 'name of this replica in run leases (default: the host name)')
    .action(async (options: ServeOptions) => {
      code = await serveCommand(options, io);
    });

  program
    .command('demo')
    .description(
      'run lightsout on a simulated fleet (examples/demo.yaml), with time running faster',
    )
    .option('--data <dir>', 'where the demo keeps its SQLite database', 'lightsout-demo')
    .option('--speed <n>', 'how many times faster than real time the clock runs', '60')
    .option('--port <port>', 'HTTP port', '8080')
    .option('--host <host>', 'HTTP address to listen on', '127.0.0.1')
    .action(async (options: DemoOptions) => {
      code = await demoCommand(options, io);
    });

  try {
    await program.parseAsync([...args], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}`);
      return EXIT.usage;
    }
    throw error;
  }
}
