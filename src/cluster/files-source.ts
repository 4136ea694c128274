import { watch as watchPath, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { loadObjects } from './files.js';
import { listed, Watches, type Source, type SourceListOptions, type SourceObject, type SourceWatch } from './source.js';
import type { KubeObject } from './types.js';

/** Options of {@link FilesSource}. */
export interface FilesSourceOptions {
  /** Read directories recursively (default true). */
  recursive?: boolean;
  /** Reload when a file changes (fs.watch) while a watch runs (default true). */
  watchFiles?: boolean;
}

/**
 * The files source: every manifest in the given paths (`-` is stdin, readable once), directories
 * as `recursive` says. `list` reads them with each object's file and line. While a watch runs,
 * a changed file (fs.watch) or `reload()` (the controller calls it on SIGHUP) reads every file
 * again; a reload that fails (bad YAML) goes to onError and the last good set stays in force.
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

  constructor(paths: string[], opts: FilesSourceOptions = {}) {
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

  private async load(): Promise<KubeObject[]> {
    return (await loadObjects(this.paths, { recursive: this.recursive })).map((d) => d.object);
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
