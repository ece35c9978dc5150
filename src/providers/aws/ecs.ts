import type { AwsKind } from './kind.js';
import { notYet } from './kind.js';

/** The `ecs` kind: not built yet (issue #5). */
export const ecsKind: AwsKind = notYet('ecs');
