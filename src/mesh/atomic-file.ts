/**
 * Writes a file so that a reader (or a restart after a crash) sees the old content or the
 * new, never a torn mix: the text goes to a temp file beside it, then one rename replaces the
 * file (rename is atomic within a file system, POSIX).
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

let sequence = 0;

export async function writeFileAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  // NOTE: unique per write, not only per process: two meshes in one process may save the same file at once.
  const temp = `${file}.${process.pid}.${++sequence}.tmp`;
  try {
    await writeFile(temp, text);
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}
