/**
 * The open files of a chunk, one per UTC day, each under a temporary name in its
 * day folder: text is appended as pages come, and `close` hands the files over
 * with the ids they hold.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { partitionOf, temporaryName } from './layout.js';
import type { DayLines } from './pages.js';

export interface DayFile {
  readonly day: number;
  readonly dir: string;
  readonly temporary: string;
  readonly firstId: number;
  readonly lastId: number;
  readonly rows: number;
}

interface OpenFile {
  readonly fd: number;
  readonly dir: string;
  readonly temporary: string;
  readonly firstId: number;
  lastId: number;
  rows: number;
}

export class DayFiles {
  private readonly open = new Map<number, OpenFile>();

  /** `suffix`: the extension of the temporary name (`part-FIRSTID.SUFFIX`, dotted, see layout.ts). */
  constructor(
    private readonly out: string,
    private readonly suffix: string,
  ) {}

  append(days: readonly DayLines[]): void {
    for (const lines of days) {
      let file = this.open.get(lines.day);
      if (file === undefined) {
        const dir = join(this.out, partitionOf(lines.day));
        mkdirSync(dir, { recursive: true });
        const temporary = join(dir, temporaryName(`part-${lines.firstId}.${this.suffix}`));
        file = {
          fd: openSync(temporary, 'wx'),
          dir,
          temporary,
          firstId: lines.firstId,
          lastId: lines.lastId,
          rows: 0,
        };
        this.open.set(lines.day, file);
      }
      writeAll(file.fd, lines.text);
      file.lastId = lines.lastId;
      file.rows += lines.rows;
    }
  }

  /** Closes every file and hands them over, in day order; the next append opens new ones. */
  close(): DayFile[] {
    return this.closeUnless(() => false);
  }

  /** Closes and hands over the files of the days that `keep` does not keep open. */
  closeUnless(keep: (day: number) => boolean): DayFile[] {
    const files = [...this.open.entries()]
      .filter(([day]) => !keep(day))
      .sort(([a], [b]) => a - b)
      .map(([day, file]) => {
        closeSync(file.fd);
        return {
          day,
          dir: file.dir,
          temporary: file.temporary,
          firstId: file.firstId,
          lastId: file.lastId,
          rows: file.rows,
        };
      });
    for (const file of files) this.open.delete(file.day);
    return files;
  }

  /** Closes and removes the files not handed over (a failed export). */
  discard(): void {
    for (const file of this.open.values()) {
      closeSync(file.fd);
      rmSync(file.temporary, { force: true });
    }
    this.open.clear();
  }
}

/** `writeSync` may write less than it was given; a file takes all of it or the export fails. */
function writeAll(fd: number, text: Uint8Array | string): void {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  for (let offset = 0; offset < bytes.byteLength;)
    offset += writeSync(fd, bytes, offset, bytes.byteLength - offset);
}
