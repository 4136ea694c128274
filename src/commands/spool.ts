import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * All-or-nothing output for `mesh inject` / `mesh uninject`: the documents are collected here and
 * reach stdout only when the whole input was read and transformed, so a run that fails on its
 * last document writes nothing (a pipeline into `kubectl apply` applies nothing). Memory stays
 * bounded: past `limit` characters (default 1 Mi) the output spills to a temporary file (mode 0600, in its own
 * directory under the system temp dir), removed after commit or discard. Half the limit is collected
 * while the other half is being written, so the caller goes on working during the write.
 */
export class Spool {
  private mem: string[] = [];
  private memSize = 0;
  private file: { dir: string; path: string; fh: FileHandle } | undefined;
  /** The write to the file under way (at most one), and its size in characters. */
  private writing: Promise<unknown> = Promise.resolve();
  private writingSize = 0;
  /** The most characters held in memory at once (tests read it to see memory stays bounded). */
  maxBuffered = 0;

  constructor(
    /** Characters kept in memory before spilling to a temporary file. */
    private readonly limit = 1024 * 1024,
    /** Where the temporary directory is made (default the system temp dir). */
    private readonly dir = tmpdir(),
  ) {}

  /** Whether the output has spilled to a temporary file. */
  get spilled(): boolean {
    return this.file !== undefined;
  }

  /** Add text to the output. */
  async write(s: string): Promise<void> {
    if (s === '') return;
    this.mem.push(s);
    this.memSize += s.length;
    this.maxBuffered = Math.max(this.maxBuffered, this.memSize + this.writingSize);
    if (this.memSize >= this.limit / 2) await this.spill();
  }

  /** Nothing reaches the reader before commit(); present so the spool stands where a stream sink would. */
  async flush(): Promise<void> {}

  private async spill(): Promise<void> {
    if (!this.file) {
      const dir = await mkdtemp(join(this.dir, 'mesh-output-'));
      const path = join(dir, 'output');
      this.file = { dir, path, fh: await open(path, 'wx', 0o600) };
    }
    const text = this.mem.join('');
    this.mem = [];
    this.memSize = 0;
    await this.writing;
    this.writingSize = text.length;
    this.writing = this.file.fh.write(text).then(() => {
      this.writingSize = 0;
    });
    // Its failure is thrown by the next spill, commit or discard's wait; never unhandled.
    this.writing.catch(() => {});
  }

  /**
   * Write everything to `out` (respecting backpressure), then remove the temporary file. A reader
   * that went away (EPIPE, e.g. `| head`) ends the copy quietly.
   */
  async commit(out: NodeJS.WritableStream): Promise<void> {
    // Errors during the copy reach pipeline(); a late EPIPE from a reader that left after it must
    // not become an unhandled 'error' event.
    out.on('error', () => {});
    try {
      if (this.file) {
        await this.spill();
        await this.writing;
        await this.file.fh.close();
        await pipeline(createReadStream(this.file.path), out, { end: false });
      } else {
        await pipeline(Readable.from(this.mem), out, { end: false });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    } finally {
      await this.discard();
    }
  }

  /** Drop the output (the run failed): nothing is written, the temporary file is removed. */
  async discard(): Promise<void> {
    this.mem = [];
    this.memSize = 0;
    const f = this.file;
    this.file = undefined;
    if (!f) return;
    await this.writing.catch(() => {});
    this.writing = Promise.resolve();
    this.writingSize = 0;
    await f.fh.close().catch(() => {});
    await rm(f.dir, { recursive: true, force: true });
  }
}
