import { formatDiagnostic, loadConfigFile } from '../config/load.js';
import { awsSelectors, iamPolicy } from '../providers/aws/iam-policy.js';
import type { CliIo } from './io.js';
import { EXIT } from './io.js';

/** `lightsout iam-policy --config FILE`: the least-privilege IAM policy for the config's AWS selectors. */
export async function iamPolicyCommand(options: { config: string }, io: CliIo): Promise<number> {
  const loaded = await loadConfigFile(options.config);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.err(formatDiagnostic(d));
    return EXIT.invalidConfig;
  }
  const environments = loaded.config.fleet.environments;
  if (awsSelectors(environments).length === 0) {
    io.err(
      `${options.config}: no environment selects AWS resources (provider: aws), so lightsout needs no IAM permissions`,
    );
  }
  const roles = [
    ...new Set(
      awsSelectors(environments).flatMap((s) => {
        const role = (s.settings as { role?: string } | undefined)?.role;
        return role === undefined ? [] : [role];
      }),
    ),
  ];
  if (roles.length > 0)
    io.err(
      `attach this policy to ${roles.join(', ')}; lightsout's own identity needs sts:AssumeRole on ${roles.length === 1 ? 'it' : 'them'}, and each role's trust policy must allow it (docs/aws.md shows both)`,
    );
  io.out(JSON.stringify(iamPolicy(environments), null, 2));
  return EXIT.ok;
}
