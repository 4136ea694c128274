import { createReadStream, rmSync } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Output bytes held in memory before spilling to a temporary file (a 10,000-document inject writes 47 MB). */
export const SPOOL_LIMIT = 64 * 1024 * 1024;
/** Encoded output is collected in chunks of this size (or the limit's quarter, if smaller). */
const CHUNK = 1024 * 1024;

/**
 * All-or-nothing output for `mesh inject` / `mesh uninject`: the documents are collected here and
 * reach stdout only when the whole input was read and transformed, so a run that fails on its
 * last document writes nothing (a pipeline into `kubectl apply` applies nothing). Memory stays
 * bounded: the text is encoded into UTF-8 chunks as it comes (Buffers, outside the JS heap), and
 * past `limit` bytes (default {@link SPOOL_LIMIT}) the output spills to a temporary file (mode
 * 0600, in its own directory under the system temp dir), removed after commit or discard. Once
 * spilled, half the limit is collected while the other half is being written, so the caller goes
 * on working during the write. Below the limit nothing touches the disk: the chunks are written
 * to the reader at commit as they are.
 */
export class Spool {
  /** Sealed chunks not yet written to the file. */
  private held: Buffer[] = [];
  private heldSize = 0;
  /** Text not yet encoded, and its length. */
  private text: string[] = [];
  private textSize = 0;
  private readonly chunk: number;
  private file: { dir: string; path: string; fh: FileHandle } | undefined;
  /** The write to the file under way (at most one), and its size in bytes. */
  private writing: Promise<unknown> = Promise.resolve();
  private writingSize = 0;
  /**
   * Removes the temporary directory if the process exits before commit or discard do (the CLI
   * exits at once when the reader of stdout goes away: `mesh inject ... | head`).
   */
  private readonly removeOnExit = (): void => {
    if (this.file) rmSync(this.file.dir, { recursive: true, force: true });
  };
  /** The most bytes held in memory at once (tests read it to see memory stays bounded). */
  maxBuffered = 0;

  constructor(
    /** Bytes kept in memory before spilling to a temporary file. */
    private readonly limit = SPOOL_LIMIT,
    /** Where the temporary directory is made (default the system temp dir). */
    private readonly dir = tmpdir(),
  ) {
    this.chunk = Math.max(1, Math.min(CHUNK, Math.floor(limit / 4)));
  }

  /** Whether the output has spilled to a temporary file. */
  get spilled(): boolean {
    return this.file !== undefined;
  }

  /** Add text to the output: a promise only when the output spills to the file (otherwise nothing to wait for). */
  write(s: string): Promise<void> | undefined {
    if (s === '') return undefined;
    this.text.push(s);
    this.textSize += s.length;
    if (this.textSize >= this.chunk) this.seal();
    const size = this.heldSize + this.textSize;
    this.maxBuffered = Math.max(this.maxBuffered, size + this.writingSize);
    return size >= (this.file ? this.limit / 2 : this.limit) ? this.spill() : undefined;
  }

  /** Nothing reaches the reader before commit(); present so the spool stands where a stream sink would. */
  async flush(): Promise<void> {}

  /**
   * Encode the text collected so far into one chunk. Joined first: one flat string in V8's large
   * object space, rather than each document's rope flattened in the young generation on its own.
   */
  private seal(): void {
    if (this.textSize === 0) return;
    const b = Buffer.from(this.text.length === 1 ? this.text[0]! : this.text.join(''), 'utf8');
    this.text = [];
    this.textSize = 0;
    this.held.push(b);
    this.heldSize += b.length;
  }

  /** Take everything held in memory, sealed. */
  private take(): Buffer[] {
    this.seal();
    const bufs = this.held;
    this.held = [];
    this.heldSize = 0;
    return bufs;
  }

  private async spill(): Promise<void> {
    const first = !this.file;
    if (!this.file) {
      const dir = await mkdtemp(join(this.dir, 'mesh-output-'));
      const path = join(dir, 'output');
      process.on('exit', this.removeOnExit);
      try {
        this.file = { dir, path, fh: await open(path, 'wx', 0o600) };
      } catch (err) {
        process.off('exit', this.removeOnExit);
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
    const bufs = this.take();
    await this.writing;
    this.writingSize = bufs.reduce((n, b) => n + b.length, 0);
    this.writing = this.writeAll(this.file.fh, bufs).then(() => {
      this.writingSize = 0;
    });
    // Its failure is thrown by the next spill, commit or discard's wait; never unhandled.
    this.writing.catch(() => {});
    // The first spill hands over the whole limit: wait for it, so memory stays within the limit.
    if (first) await this.writing;
  }

  /** Write `bufs` to the file in order (writev takes at most 1,024 buffers at a time). */
  private async writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
    for (let i = 0; i < bufs.length; i += 1024) await fh.writev(bufs.slice(i, i + 1024));
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
        await pipeline(createReadStream(this.file.path, { highWaterMark: CHUNK }), out, { end: false });
      } else {
        await pipeline(Readable.from(this.take(), { objectMode: false }), out, { end: false });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    } finally {
      await this.discard();
    }
  }

  /** Drop the output (the run failed): nothing is written, the temporary file is removed. */
  async discard(): Promise<void> {
    this.held = [];
    this.heldSize = 0;
    this.text = [];
    this.textSize = 0;
    const f = this.file;
    this.file = undefined;
    if (!f) return;
    await this.writing.catch(() => {});
    this.writing = Promise.resolve();
    this.writingSize = 0;
    await f.fh.close().catch(() => {});
    await rm(f.dir, { recursive: true, force: true });
    process.off('exit', this.removeOnExit);
  }
}
