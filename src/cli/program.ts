import { createRequire } from 'node:module';
import { Command, CommanderError, Option } from 'commander';
import { eventsExportCommand } from './events-export.js';
import type { EventsExportOptions } from './events-export.js';
import { eventsPruneCommand } from './events-prune.js';
import type { EventsPruneOptions } from './events-prune.js';
import { iamPolicyCommand } from './iam-policy.js';
import { lintCommand } from './lint.js';
import { notifyTestCommand } from './notify.js';
import { planCommand } from './plan.js';
import {
  cancelCommand,
  eventsCommand,
  boostCommand,
  extendCommand,
  holdDeleteCommand,
  holdListCommand,
  reserveCommand,
  runsCommand,
  statusCommand,
  switchCommand,
} from './operate.js';
import type { EventsOptions, StoreOptions } from './operate.js';
import { DEFAULT_DB, demoCommand, serveCommand } from './serve.js';
import { storeFaultOf } from '../store/faults.js';
import type { SavingsOptions } from './savings.js';
import { savingsCommand } from './savings.js';
import type { DemoOptions, ServeOptions } from './serve.js';
import { tokenCreateCommand, tokenListCommand, tokenRevokeCommand } from './tokens.js';
import type { TokenCreateOptions } from './tokens.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';
import { StoreOpenError } from '../store/db.js';

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
    // Each command's options end where its subcommand begins (`events --config` vs
    // `events export --config`); lightsout's own options (--version, --help) come first.
    .enablePositionalOptions()
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
    .option('--savings', 'project hours, money and carbon saved instead (default window: 30 days)')
    .option('--proposed <file>', 'with --savings: compare with what this config would save')
    .option('--db <url>', 'with --savings: the store whose inventory is priced', DEFAULT_DB)
    .action(
      async (options: {
        config: string;
        from?: string;
        to?: string;
        env?: string[];
        json?: boolean;
        savings?: boolean;
        proposed?: string;
        db?: string;
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
    .command('notify')
    .description('check notice channels')
    .command('test <name>')
    .description(
      'send one test message through a notifier of the config: delivered (exit 0), or the refusal and its fix (exit 4)',
    )
    .requiredOption('-c, --config <file>', 'the lightsout.yaml that defines it')
    .action(async (name: string, options: { config: string }) => {
      code = await notifyTestCommand(name, options, io);
    });

  program
    .command('serve')
    .description(
      'run lightsout: reconcile environments and serve the API, /healthz, /readyz and /metrics (stops gracefully on SIGTERM)',
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
    .option('--speed <n>', 'run the clock n times faster than real time (demos and tests)')
    .option(
      '--rate-limit <n>',
      'API requests per minute per token, or per address without a valid one (default 6000)',
    )
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

  program
    .command('iam-policy')
    .description(
      'print the least-privilege IAM policy (JSON) for the AWS resources the config selects',
    )
    .requiredOption('-c, --config <file>', 'the lightsout.yaml to read')
    .action(async (options: { config: string }) => {
      code = await iamPolicyCommand(options, io);
    });

  const CONFIG_FLAGS = '-c, --config <file>';
  const CONFIG_HELP = 'the lightsout.yaml the server runs';
  const withStore = (command: Command, configRequired = true) =>
    (configRequired
      ? command.requiredOption(CONFIG_FLAGS, CONFIG_HELP)
      : command.option(CONFIG_FLAGS, CONFIG_HELP)
    )
      .option('--db <url>', 'the store the server uses: sqlite:PATH or postgres://...', DEFAULT_DB)
      .option('--json', 'print JSON');

  withStore(
    program
      .command('status')
      .description('desired state, next transition and last run of each environment'),
  )
    .option('--env <name>', 'only this environment')
    .action(async (options: StoreOptions & { env?: string }) => {
      code = await statusCommand(options, io);
    });

  withStore(
    program
      .command('savings')
      .description('hours off, money and carbon saved, measured from the event log'),
  )
    .option('--env <name>', 'only this environment (times without an offset are read in its zone)')
    .option('--team <name>', "only this team's environments")
    .option('--from <iso>', 'from this instant (default: 30 days before --to)')
    .option('--to <iso>', 'until this instant (default: now)')
    .option('--by <period>', "also per day, week or month, in each environment's zone")
    .option('--csv', 'print CSV')
    .action(async (options: SavingsOptions) => {
      code = await savingsCommand(options, io);
    });

  withStore(program.command('runs').description('recent runs, newest first'))
    .option('--env <name>', 'only this environment')
    .option('--limit <n>', 'how many', '20')
    .action(async (options: StoreOptions & { env?: string; limit?: string }) => {
      code = await runsCommand(options, io);
    });

  const events = program
    .command('events')
    .description('the event log, oldest first, a page at a time');
  // Its --config is checked by its action, not by commander, which would ask for it on
  // `events export` too (a subcommand's parse checks its parent's required options).
  withStore(events, false)
    .option('--env <name>', 'only this environment (times without an offset are read in its zone)')
    .option('--kind <kind>', 'only this kind, e.g. run.finished')
    .option('--since <iso>', 'from this instant')
    .option('--until <iso>', 'before this instant')
    .option('--limit <n>', 'page size', '100')
    .option('--after <cursor>', 'continue after a previous page')
    .action(async (options: EventsOptions) => {
      if ((options as Partial<EventsOptions>).config === undefined)
        throw new UsageError(`required option '${CONFIG_FLAGS}' not specified`);
      code = await eventsCommand(options, io);
    });
  withStore(
    events
      .command('export')
      .description(
        'write the event log to files under --out, one folder per UTC day (year=/month=/day=); only what is new since the last export there, unless --from/--to',
      ),
  )
    .requiredOption('--format <format>', 'ndjson or parquet')
    .requiredOption('--out <dir>', 'the directory to write to (made if missing)')
    .option('--from <iso>', 'a one-off export of the events from this instant (Z or an offset)')
    .option('--to <iso>', 'a one-off export of the events before this instant')
    .action(async (options: EventsExportOptions) => {
      code = await eventsExportCommand(options, io);
    });
  withStore(
    events
      .command('prune')
      .description(
        "delete the events older than the config's retention (400d by default) now, as serve does hourly; savings stay exact",
      ),
  )
    .option('--older-than <duration>', "instead of the config's retention, e.g. 90d (at least 1d)")
    .action(async (options: EventsPruneOptions) => {
      code = await eventsPruneCommand(options, io);
    });

  for (const direction of ['start', 'stop'] as const) {
    const command = withStore(
      program
        .command(`${direction} <environment>`)
        .description(
          `${direction} an environment now${direction === 'stop' ? ', after a warned grace period' : ''}, and hold it ${direction === 'stop' ? 'off' : 'on'} until --until`,
        ),
    );
    if (direction === 'stop')
      command.option(
        '--grace <duration>',
        "warning before the stop (default: the environment's grace)",
      );
    command
      .option(
        '--until <time>',
        `hold it ${direction === 'stop' ? 'off' : 'on'} until then: ISO 8601 (without an offset, in the environment's zone) or +DURATION, e.g. +2h (default: its next scheduled change, or one hour)`,
      )
      .action(
        async (environment: string, options: StoreOptions & { grace?: string; until?: string }) => {
          code = await switchCommand(direction, environment, options, io);
        },
      );
  }

  const hold = program
    .command('hold')
    .description('holds: keep an environment on or off until a time (start and stop make one)');
  withStore(hold.command('list').description('holds in force or to come'))
    .option('--env <name>', 'only this environment')
    .action(async (options: StoreOptions & { env?: string }) => {
      code = await holdListCommand(options, io);
    });
  withStore(
    hold
      .command('delete <id>')
      .description('lift a hold made by a command or the API (the plan applies again)'),
  ).action(async (id: string, options: StoreOptions) => {
    code = await holdDeleteCommand(id, options, io);
  });

  const token = program.command('token').description('API tokens (shown once, stored as a hash)');
  withStore(token.command('create').description('create an API token and print it once'))
    .requiredOption('--name <name>', 'what the token is for, e.g. ci')
    .requiredOption('--role <role>', 'viewer, operator or admin')
    .option('--team <team>', "only this team's environments")
    .option('--expires <duration>', 'expires after, e.g. 90d')
    .action(async (options: TokenCreateOptions) => {
      code = await tokenCreateCommand(options, io);
    });
  withStore(token.command('list').description('tokens, without their values')).action(
    async (options: StoreOptions) => {
      code = await tokenListCommand(options, io);
    },
  );
  withStore(token.command('revoke <name>').description('revoke a token by name or id')).action(
    async (name: string, options: StoreOptions) => {
      code = await tokenRevokeCommand(name, options, io);
    },
  );

  withStore(
    program
      .command('boost <environment>')
      .description(
        "scale an environment's ECS services to their autoscaling maximum for a while, then let them scale in",
      ),
  )
    .requiredOption('--for <duration>', 'how long, e.g. 30m')
    .action(async (environment: string, options: StoreOptions & { for: string }) => {
      code = await boostCommand(environment, options, io);
    });

  withStore(
    program
      .command('cancel <run>')
      .description('cancel a stop during its grace period and keep the environment on'),
  )
    .option(
      '--until <time>',
      "keep it on until then: ISO 8601 or +DURATION (default: the schedule's next stop after the cancelled one, or one hour past it)",
    )
    .action(async (run: string, options: StoreOptions & { until?: string }) => {
      code = await cancelCommand(run, options, io);
    });

  withStore(
    program.command('extend <environment>').description('keep an environment on until a time'),
  )
    .requiredOption(
      '--until <time>',
      "until when: ISO 8601 (without an offset: the environment's zone) or +DURATION, e.g. +2h",
    )
    .action(async (environment: string, options: StoreOptions & { until: string }) => {
      code = await extendCommand(environment, options, io);
    });

  withStore(
    program
      .command('reserve <environment>')
      .description('reserve an environment for a window; overlapping reservations merge'),
  )
    .requiredOption('--from <iso>', "start (without an offset: the environment's zone)")
    .requiredOption('--to <iso>', 'end, exclusive')
    .option('--note <text>', 'why')
    .option('--resource <id>', 'reserve this one resource of the environment alone')
    .action(
      async (
        environment: string,
        options: StoreOptions & { from: string; to: string; note?: string; resource?: string },
      ) => {
        code = await reserveCommand(environment, options, io);
      },
    );

  try {
    await program.parseAsync([...args], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (error instanceof UsageError) {
      io.err(`error: ${error.message}`);
      return EXIT.usage;
    }
    if (error instanceof StoreOpenError) {
      io.err(`error: ${error.message}`);
      return EXIT.storeUnavailable;
    }
    // A write the store refused (a full disk, a read-only file): one line, not a stack.
    const fault = storeFaultOf(error);
    if (fault !== undefined) {
      io.err(`error: the store refused the change: ${fault.reason}; nothing was changed`);
      return EXIT.storeUnavailable;
    }
    throw error;
  }
}
