/** What a format writer does with a chunk of the export: the exporter places the files it returns. */
import type { EventRow } from '../store/schema.js';

/** One day's rows of a chunk, written to a temporary file beside its final name. */
export interface WrittenFile {
  readonly temporary: string;
  readonly final: string;
  readonly rows: number;
}

export interface ChunkSink {
  /** Rows in id order. */
  add(rows: readonly EventRow[]): Promise<void>;
  /** Writes the rows added since the last flush, one file per UTC day, to temporary names. */
  flush(): Promise<WrittenFile[]>;
  /** Releases what the writer holds; removes temporary files it has not handed over. */
  close(): Promise<void>;
}
