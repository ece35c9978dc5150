import type { AwsKind } from './kind.js';
import { notYet } from './kind.js';

/** The `stack` kind: not built yet (issue #5). */
export const stackKind: AwsKind = notYet('stack');
