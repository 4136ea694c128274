import { spawn } from 'node:child_process';

/**
 * Open `url` in the desktop's browser (open on macOS, start on Windows, xdg-open elsewhere). Best
 * effort: a missing opener or a failure only means the user opens the printed URL; never throws.
 */
export function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    /* the URL is printed anyway */
  }
}
