/** What a format writer does with a chunk of the export: the exporter places the files it returns. */
import type { AtFormat, DayLines } from './pages.js';

/** One day's rows of a chunk, written to a temporary file beside its final name. */
export interface WrittenFile {
  readonly temporary: string;
  readonly final: string;
  readonly rows: number;
}

export interface ChunkSink {
  /** How the lines this writer takes write `at`. */
  readonly at: AtFormat;
  /** A page's lines, per UTC day, in id order. */
  add(days: readonly DayLines[]): void;
  /** Writes what was added since the last flush, one file per UTC day, to temporary names. */
  flush(): Promise<WrittenFile[]>;
  /** Releases what the writer holds; removes temporary files it has not handed over. */
  close(): Promise<void>;
}
