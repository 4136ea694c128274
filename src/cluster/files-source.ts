import { watch as watchPath, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { inputError } from '../errors.js';
import { inputFiles, loadObjects } from './files.js';
import { listed, Watches, type Source, type SourceListOptions, type SourceObject, type SourceWatch } from './source.js';
import type { KubeObject } from './types.js';

/** Options of {@link FilesSource}. */
export interface FilesSourceOptions {
  /** Read directories recursively (default true). */
  recursive?: boolean;
  /** Reload when a file changes (fs.watch) while a watch runs (default true). */
  watchFiles?: boolean;
  /** While watching, files larger than this are refused without being read (default MAX_FILE_BYTES). */
  maxFileBytes?: number;
  /** Diagnostic lines: a file that is readable again after an error, or removed. */
  log?: (line: string) => void;
}

/** The largest manifest file a watching files source reads (10 MiB): a whole cluster's YAML is far smaller. */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;

/**
 * The files source: every manifest in the given paths (`-` is stdin, readable once), directories
 * as `recursive` says. `list` reads them with each object's file and line. While a watch runs,
 * a changed file (fs.watch) or `reload()` (the controller calls it on SIGHUP) reads every file
 * again; a reload that fails (bad YAML, a file over maxFileBytes) goes to onError and the last
 * good set stays in force; once such a file is fixed or removed, the next reload logs that it is
 * readable again. A file over the limit is never read, so dropping a huge file into a watched
 * folder costs no memory.
 */
export class FilesSource implements Source {
  readonly description: string;
  private readonly paths: string[];
  private readonly recursive: boolean;
  private readonly watchFiles: boolean;
  private readonly watches = new Watches();
  private fsWatchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> = Promise.resolve();
  private readonly maxFileBytes: number;
  private readonly log: ((line: string) => void) | undefined;
  /** Files whose last read failed, so their recovery is logged once. */
  private readonly failing = new Set<string>();

  constructor(paths: string[], opts: FilesSourceOptions = {}) {
    this.maxFileBytes = opts.maxFileBytes ?? MAX_FILE_BYTES;
    this.log = opts.log;
    this.paths = paths;
    this.recursive = opts.recursive ?? true;
    this.watchFiles = opts.watchFiles ?? true;
    this.description = `files ${paths.join(', ')}`;
  }

  async list(opts?: SourceListOptions): Promise<SourceObject[]> {
    const loaded = await loadObjects(this.paths, { recursive: this.recursive });
    const out: SourceObject[] = [];
    for (const l of loaded) if (listed(l.object, opts)) out.push({ object: l.object, location: { file: l.source, line: l.line } });
    return out;
  }

  /** Every file in turn (sizes checked before reading); the first failure is thrown after the rest were tried. */
  private async load(): Promise<KubeObject[]> {
    const files = await inputFiles(this.paths, { recursive: this.recursive });
    const objects: KubeObject[] = [];
    let first: Error | undefined;
    const failed = new Set<string>();
    for (const file of files) {
      try {
        if (file !== '-' && !/^https?:\/\//i.test(file)) {
          const { size } = await stat(file);
          if (size > this.maxFileBytes) throw inputError(`${file}: ${size} bytes, over the files source's limit of ${this.maxFileBytes} bytes; not read`, 'split the manifests into smaller files, or remove the file from the watched folder');
        }
        for (const d of await loadObjects([file])) objects.push(d.object);
      } catch (err) {
        failed.add(file);
        first ??= err instanceof Error ? err : new Error(String(err));
      }
    }
    const listedNow = new Set(files);
    for (const file of this.failing) if (!failed.has(file)) this.log?.(`${file}: ${listedNow.has(file) ? 'readable again' : 'removed; no longer read'}`);
    this.failing.clear();
    for (const file of failed) this.failing.add(file);
    if (first) throw first;
    return objects;
  }

  async watch(onChange: (objects: KubeObject[]) => void, onError: (err: Error) => void): Promise<SourceWatch> {
    // The first load must succeed: a controller that starts on a typo should say so and exit.
    onChange(await this.load());
    const added = this.watches.add(onChange, onError);
    // The files are watched while any watch runs: the last one to stop closes fs.watch.
    const w: SourceWatch = {
      stop: async () => {
        await added.stop();
        if (!this.watches.size) this.unwatchFiles();
      },
    };
    if (this.watchFiles && this.fsWatchers.length === 0) {
      for (const p of this.paths) {
        if (p === '-') continue; // stdin has nothing to watch
        const dir = (await stat(p)).isDirectory();
        const fw = watchPath(p, { recursive: dir }, () => this.scheduleReload());
        fw.on('error', (err) => this.watches.error(err));
        this.fsWatchers.push(fw);
      }
    }
    return w;
  }

  private scheduleReload(): void {
    if (this.timer) clearTimeout(this.timer);
    // Editors write files in several steps; wait for them to settle.
    this.timer = setTimeout(() => void this.reload(), 50);
  }

  /** Read every file again and deliver the new set to every watch (errors go to onError; the last good set stays). */
  reload(): Promise<void> {
    this.loading = this.loading.then(async () => {
      if (!this.watches.size) return;
      try {
        this.watches.emit(await this.load());
      } catch (err) {
        this.watches.error(err instanceof Error ? err : new Error(String(err)));
      }
    });
    return this.loading;
  }

  private unwatchFiles(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.fsWatchers) w.close();
    this.fsWatchers = [];
  }

  async stop(): Promise<void> {
    this.unwatchFiles();
    this.watches.clear();
  }
}
