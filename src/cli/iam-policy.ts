import { formatDiagnostic, loadConfigFile } from '../config/load.js';
import { assumeForwardingRoles, forwardStatements } from '../forward/permissions.js';
import { awsSelectors, iamPolicy } from '../providers/aws/iam-policy.js';
import type { CliIo } from './io.js';
import { EXIT } from './io.js';

/**
 * `lightsout iam-policy --config FILE`: the least-privilege IAM policy for the
 * config's AWS selectors and its `forward` destinations.
 */
export async function iamPolicyCommand(options: { config: string }, io: CliIo): Promise<number> {
  const loaded = await loadConfigFile(options.config);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) io.err(formatDiagnostic(d));
    return EXIT.invalidConfig;
  }
  const environments = loaded.config.fleet.environments;
  const forward = loaded.config.document.forward;
  if (awsSelectors(environments).length === 0 && forward.length === 0) {
    io.err(
      `${options.config}: no environment selects AWS resources (provider: aws) and no events are forwarded, so lightsout needs no IAM permissions`,
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
  const forwarding = forwardStatements(forward);
  for (const f of forwarding)
    if (f.role !== undefined)
      io.err(
        `${f.field} is sent as ${f.role}: statement ${f.statement.Sid} belongs in that role's policy, and AssumeForwardingRoles in lightsout's own identity's (the role's trust policy must allow it)`,
      );
  const policy = iamPolicy(environments);
  io.out(
    JSON.stringify(
      {
        ...policy,
        Statement: [
          ...policy.Statement,
          ...forwarding.map((f) => f.statement),
          ...assumeForwardingRoles(forward),
        ],
      },
      null,
      2,
    ),
  );
  return EXIT.ok;
}
