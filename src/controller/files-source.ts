import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { loadObjects } from '../cluster/files.js';
import type { KubeObject } from '../cluster/types.js';
import type { ObjectSource } from './controlplane.js';

/**
 * The files source: every manifest under the given paths (directories recursively), reloaded when
 * a file changes (fs.watch) or on `reload()` (the controller calls it on SIGHUP). A reload that
 * fails (bad YAML) is reported through onError and the last good set stays in force.
 */
export class FilesSource implements ObjectSource {
  readonly description: string;
  private readonly paths: string[];
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private onChange: ((objects: KubeObject[]) => void) | undefined;
  private onError: ((err: Error) => void) | undefined;
  private loading: Promise<void> = Promise.resolve();

  constructor(paths: string[], private readonly watchFiles = true) {
    this.paths = paths;
    this.description = `files ${paths.join(', ')}`;
  }

  async start(onChange: (objects: KubeObject[]) => void, onError: (err: Error) => void): Promise<void> {
    this.onChange = onChange;
    this.onError = onError;
    // The first load must succeed: a controller that starts on a typo should say so and exit.
    onChange(await this.load());
    if (!this.watchFiles) return;
    for (const p of this.paths) {
      const dir = (await stat(p)).isDirectory();
      const w = watch(p, { recursive: dir }, () => this.scheduleReload());
      w.on('error', (err) => onError(err));
      this.watchers.push(w);
    }
  }

  private async load(): Promise<KubeObject[]> {
    return (await loadObjects(this.paths, { recursive: true })).map((d) => d.object);
  }

  private scheduleReload(): void {
    if (this.timer) clearTimeout(this.timer);
    // Editors write files in several steps; wait for them to settle.
    this.timer = setTimeout(() => void this.reload(), 50);
  }

  /** Read every file again and deliver the new set (errors go to onError; the last good set stays). */
  reload(): Promise<void> {
    this.loading = this.loading.then(async () => {
      if (!this.onChange) return;
      try {
        const objects = await this.load();
        this.onChange?.(objects);
      } catch (err) {
        this.onError?.(err instanceof Error ? err : new Error(String(err)));
      }
    });
    return this.loading;
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.onChange = undefined;
  }
}
