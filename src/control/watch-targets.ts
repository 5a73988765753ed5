/**
 * What to watch so that every change to a file is heard, however the file is reached.
 *
 * fs.watch on the file's directory hears an editor that saves by renaming a new file over
 * the old one. A Kubernetes ConfigMap mount reaches the file through symlinks
 * (`mesh.yaml -> ..data/mesh.yaml`, `..data -> ..2026_01_01_12_00_00.123`) and updates it by
 * writing a new timestamped directory and renaming a `..data_tmp` symlink over `..data`: the
 * directory hears `..data` change, never `mesh.yaml`. So each link on the way to the real file
 * is a target, watched in the directory that holds it, and so is a symlinked directory a link
 * leads through (`..data` itself). Directories are named by their real path: a watch on
 * `..data/` would stay on the directory it pointed to when the watch began. Targets are
 * recomputed after every read, since a swap leads somewhere new.
 */
import { lstat, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

/** A directory to watch, and the entries in it whose events concern the file. */
export interface WatchTarget {
  readonly dir: string;
  readonly names: ReadonlySet<string>;
}

/** Symlinks followed before giving up (the kernel's own limit is 40; a ConfigMap needs 2). */
const MAX_LINKS = 8;

export async function watchTargets(path: string): Promise<WatchTarget[]> {
  const byDir = new Map<string, Set<string>>();
  const add = async (entry: string): Promise<void> => {
    const dir = await realpath(dirname(entry)).catch(() => dirname(entry));
    const names = byDir.get(dir) ?? new Set<string>();
    names.add(basename(entry));
    byDir.set(dir, names);
  };
  let current = path;
  for (let links = 0; ; links++) {
    await add(current);
    // A link's target may lead through a symlinked directory (`..data/mesh.yaml`): swapping
    // that directory link is the update, so it is watched where it lives.
    if (links > 0 && (await isSymlink(dirname(current)))) await add(dirname(current));
    if (links === MAX_LINKS) break;
    const target = await readlink(current).catch(() => undefined);
    if (target === undefined) break; // a regular file, or nothing there (yet)
    current = resolve(dirname(current), target);
  }
  return [...byDir].map(([dir, names]) => ({ dir, names }));
}

async function isSymlink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch {
    return false;
  }
}
