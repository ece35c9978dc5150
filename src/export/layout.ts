/**
 * Where an export puts its files: one folder per UTC day in Hive layout
 * (`year=YYYY/month=MM/day=DD/`, the partitions DuckDB, Athena and Spark read
 * from the path), files named by the ids they hold so no two exports collide.
 */
import { join } from 'node:path';

export const EXPORT_FORMATS = ['ndjson', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const DAY_MS = 86_400_000;

/** The UTC day of an instant, as a day number since 1970-01-01. */
export function dayOf(at: number): number {
  return Math.floor(at / DAY_MS);
}

/** `year=YYYY/month=MM/day=DD` of a day number. */
export function partitionOf(day: number): string {
  const date = new Date(day * DAY_MS).toISOString();
  return join(`year=${date.slice(0, 4)}`, `month=${date.slice(5, 7)}`, `day=${date.slice(8, 10)}`);
}

/** Ids padded to 12 digits, so a folder's files sort in the order of their events. */
export function fileName(firstId: number, lastId: number, format: ExportFormat): string {
  const pad = (id: number) => String(id).padStart(12, '0');
  return `part-${pad(firstId)}-${pad(lastId)}.${format}`;
}

/** A name no reader takes for data (DuckDB, Spark and Hive skip names starting with a dot). */
export function temporaryName(finalName: string): string {
  return `.${finalName}.tmp-${process.pid}`;
}
