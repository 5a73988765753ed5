/**
 * The last control-store config that was applied, kept on disk (`<cacheDir>/last-good-config.json`;
 * discovery keeps endpoint lists beside it, in `<cacheDir>/endpoints/`), so a service restarted
 * while the control store is unreachable starts from the fleet's config rather than from its
 * bootstrap alone. Written atomically (temp file + rename). The file records when it was
 * saved, so state() can say how old the config in force is, and which store it came from.
 *
 * NOTE: `savedAt` is wall-clock time (Date.now), not the mesh's monotonic clock: the age must
 * survive a restart.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const FORMAT = 'meshlet-last-good-config/1';
let writes = 0;

export interface CachedConfig {
  readonly document: unknown;
  /** The store the config was read from (redacted), e.g. `consul://127.0.0.1:8500/meshlet`. */
  readonly source: string;
  /** Epoch ms of the write. */
  readonly savedAt: number;
}

export class LastGoodCache {
  readonly #file: string;
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
    this.#file = join(dir, 'last-good-config.json');
  }

  /** The config last saved; undefined when there is none (or it is unreadable). */
  async read(): Promise<CachedConfig | undefined> {
    let saved: { format?: unknown; source?: unknown; savedAt?: unknown; document?: unknown };
    try {
      saved = JSON.parse(await readFile(this.#file, 'utf8'));
    } catch {
      return undefined;
    }
    if (saved?.format !== FORMAT || typeof saved.source !== 'string' || typeof saved.savedAt !== 'number' || saved.document === undefined) return undefined;
    return { document: saved.document, source: saved.source, savedAt: saved.savedAt };
  }

  async write(source: string, document: unknown): Promise<void> {
    // NOTE: unique per write: two meshes in one process may save at once.
    const temp = `${this.#file}.${process.pid}.${++writes}.tmp`;
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeFile(temp, JSON.stringify({ format: FORMAT, source, savedAt: Date.now(), document }));
      await rename(temp, this.#file);
    } catch {
      await rm(temp, { force: true }).catch(() => undefined);
      // NOTE: the cache is insurance; failing to write it must not reject a good config.
    }
  }
}
