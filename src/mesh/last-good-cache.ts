/**
 * The last control-store config that was applied, kept on disk (`cacheDir`), so a service
 * restarted while the control store is unreachable starts from the fleet's config rather
 * than from its bootstrap alone. Written atomically (temp file + rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export class LastGoodCache {
  readonly #file: string;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    this.#file = join(dir, 'last-good-config.json');
  }

  async read(): Promise<unknown> {
    try {
      return JSON.parse(await readFile(this.#file, 'utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  async write(document: unknown): Promise<void> {
    try {
      await mkdir(this.#dir, { recursive: true });
      const temp = `${this.#file}.${process.pid}.tmp`;
      await writeFile(temp, JSON.stringify(document));
      await rename(temp, this.#file);
    } catch {
      // NOTE: the cache is insurance; failing to write it must not reject a good config.
    }
  }
}
