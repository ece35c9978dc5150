/**
 * A destination's `kinds`: event kinds, or globs where `*` stands for any run of
 * characters (`run.*`, `*.failed`). Written by hand: `*` is the only wildcard kinds
 * need, and Node 20 has no glob matcher (path.matchesGlob came in 22).
 */
export function kindFilter(globs: readonly string[] | undefined): (kind: string) => boolean {
  if (globs === undefined) return () => true;
  const patterns = globs.map((g) => new RegExp(`^${g.split('*').map(escape).join('.*')}$`));
  return (kind) => patterns.some((p) => p.test(kind));
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
