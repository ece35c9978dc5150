import { lintFleet } from '../core/lint.js';
import { forwardWarnings } from '../forward/lint.js';
import { inlineSecrets } from '../notify/secrets.js';
import { inlineHookSecrets } from '../switches/hooks.js';
import { inlineSlackSecrets } from '../switches/slack-app.js';
import { claimedTwice } from '../core/selection.js';
import { formatDiagnostic, loadConfigFile } from '../config/load.js';
import type { Diagnostic, LoadedConfig } from '../config/load.js';
import { sandboxId } from '../providers/sandbox/sandbox.js';
import type { CliIo } from './io.js';
import { EXIT } from './io.js';

/** `lightsout lint --config FILE`: schema errors (exit 1), then warnings for likely mistakes (exit 0). */
export async function lintCommand(options: { config: string }, io: CliIo): Promise<number> {
  const loaded = await loadConfigFile(options.config);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.err(formatDiagnostic(d));
    io.err(`${options.config}: ${plural(loaded.diagnostics.length, 'error')}`);
    return EXIT.invalidConfig;
  }
  const { config } = loaded;
  const doubles = doubleClaims(config);
  if (doubles.length > 0) {
    for (const d of doubles) io.err(formatDiagnostic(d));
    io.err(`${options.config}: ${plural(doubles.length, 'error')}`);
    return EXIT.invalidConfig;
  }
  const warnings = [
    ...lintFleet(config.fleet, io.now()),
    ...inlineSecrets(config.document.notifiers),
    ...warningsWithoutLinks(config.document),
    ...inlineHookSecrets(config.document.switches.hooks),
    ...inlineSlackSecrets(config.document.switches.slack),
    ...forwardWarnings(config.document),
  ].map((w) => config.locate(w.path, 'warning', w.message));
  warnings.sort((a, b) => a.line - b.line || a.column - b.column);
  for (const w of warnings) io.out(formatDiagnostic(w));
  io.out(
    warnings.length === 0
      ? `${options.config}: no problems found`
      : `${options.config}: ${plural(warnings.length, 'warning')}`,
  );
  return EXIT.ok;
}

/** Channels are configured but warnings can carry no action links: people can only cancel from a shell. */
function warningsWithoutLinks(
  document: LoadedConfig['document'],
): { path: string[]; message: string }[] {
  if (document.public_url !== undefined || Object.keys(document.notifiers).length === 0) return [];
  return [
    {
      path: ['notifiers'],
      message:
        'warnings will carry no "keep running" or "stop now" links; set public_url to the address people reach lightsout at, e.g. public_url: https://lightsout.example.com',
    },
  ];
}

/** Resources of the sandbox fleet that two environments select. */
function doubleClaims(config: LoadedConfig): Diagnostic[] {
  const resources = (config.document.sandbox?.resources ?? []).map((r) => ({
    id: sandboxId(r.kind, r.name),
    provider: 'sandbox',
    kind: r.kind,
    tags: r.tags,
  }));
  return claimedTwice(config.fleet.environments, resources).map((claim) =>
    config.locate(
      ['environments', claim.environments[1]!],
      'error',
      `${claim.resource} is selected by environments ${claim.environments.join(' and ')}; a resource belongs to one environment, so narrow the selectors (tags or kinds) of one of them`,
    ),
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
