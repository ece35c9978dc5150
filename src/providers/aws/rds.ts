import type { AwsKind } from './kind.js';
import { notYet } from './kind.js';

/** The `rds` kind: not built yet (issue #5). */
export const rdsKind: AwsKind = notYet('rds');

/** The `aurora` kind: not built yet (issue #5). */
export const auroraKind: AwsKind = notYet('aurora');
