/**
 * Which resources a selector takes, and resources that two environments both
 * take, which would make them fight over it.
 */
import type { Environment, Selector } from './glossary.js';

/** The parts of a resource a selector looks at. */
export interface Selectable {
  readonly id: string;
  readonly provider: string;
  readonly kind: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** The resource is of the selector's provider, of one of its kinds (if any), and carries all its tags. */
export function matches(selector: Selector, resource: Selectable): boolean {
  if (selector.provider !== resource.provider) return false;
  if (
    selector.kinds !== undefined &&
    selector.kinds.length > 0 &&
    !selector.kinds.includes(resource.kind)
  )
    return false;
  return Object.entries(selector.tags ?? {}).every(([key, value]) => resource.tags[key] === value);
}

export interface DoubleClaim {
  readonly resource: string;
  readonly environments: readonly string[];
}

/** Resources selected by more than one environment. */
export function claimedTwice(
  environments: readonly Environment[],
  resources: readonly Selectable[],
): DoubleClaim[] {
  const claims: DoubleClaim[] = [];
  for (const resource of resources) {
    const owners = environments
      .filter((e) => (e.tiers ?? []).some((tier) => tier.select.some((s) => matches(s, resource))))
      .map((e) => e.name);
    if (owners.length > 1) claims.push({ resource: resource.id, environments: owners });
  }
  return claims;
}
