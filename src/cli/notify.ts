/**
 * `lightsout notify test NAME --config FILE`: one test message through one
 * channel, so a team checks a channel before it matters. Prints what happened:
 * delivered, or the channel's refusal with its fix (never a secret).
 */
import { formatDiagnostic, loadConfigFile } from '../config/load.js';
import { channelsOf } from '../notify/channels.js';
import { DeliveryError } from '../notify/channel.js';
import { SecretError } from '../notify/secrets.js';
import type { CliIo } from './io.js';
import { EXIT, UsageError } from './io.js';

export async function notifyTestCommand(
  name: string,
  options: { config: string },
  io: CliIo,
): Promise<number> {
  const loaded = await loadConfigFile(options.config);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.err(formatDiagnostic(d));
    return EXIT.invalidConfig;
  }
  const notifiers = loaded.config.document.notifiers;
  const notifier = notifiers[name];
  if (notifier === undefined) {
    const known = Object.keys(notifiers);
    throw new UsageError(
      `there is no notifier "${name}" in ${options.config}; ${known.length === 0 ? 'define one under notifiers:' : `known: ${known.join(', ')}`}`,
    );
  }
  let channel;
  try {
    channel = channelsOf({ [name]: notifier }).get(name)!;
  } catch (error) {
    if (error instanceof SecretError) throw new UsageError(error.message);
    throw error;
  }
  try {
    await channel.send({
      kind: 'run-summary',
      environment: 'lightsout',
      runId: 'notify-test',
      text: `A test message from lightsout notify test: notices reach ${notifier.type} channel "${name}".`,
      at: io.now(),
    });
  } catch (error) {
    if (!(error instanceof DeliveryError)) throw error;
    io.err(
      `error: ${error.message}${error.permanent ? '' : ' (may pass if tried again: lightsout retries it)'}`,
    );
    return EXIT.deliveryFailed;
  }
  io.out(`delivered a test message to ${name} (${notifier.type})`);
  return EXIT.ok;
}
