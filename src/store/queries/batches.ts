/**
 * Bound parameters per statement are limited (SQLite: 32,766; PostgreSQL: 65,535),
 * so bulk writes of thousands of rows go in slices. Rows per slice keep even the
 * widest insert (10 columns) far under both limits.
 */
export const ROWS_PER_STATEMENT = 500;

export function slices<T>(items: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
