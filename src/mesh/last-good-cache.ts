/**
 * The last control-store config that was applied, kept on disk (`<cacheDir>/last-good-config.json`;
 * discovery keeps endpoint lists beside it, in `<cacheDir>/endpoints/`), so a service restarted
 * while the control store is unreachable starts from the fleet's config rather than from its
 * bootstrap alone. Written atomically (temp file + rename). The file records when it was
 * saved, so state() can say how old the config in force is, and which store it came from.
 * It stands in only for that store: a cacheDir shared by two services on a host (or a mesh
 * moved to another prefix) must not start one fleet on another fleet's config.
 *
 * NOTE: `savedAt` is wall-clock time (Date.now), not the mesh's monotonic clock: the age must
 * survive a restart.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from './atomic-file.ts';

const FORMAT = 'meshlet-last-good-config/1';

export interface CachedConfig {
  readonly document: unknown;
  /** The store the config was read from (redacted), e.g. `consul://127.0.0.1:8500/meshlet`. */
  readonly source: string;
  /** Epoch ms of the write. */
  readonly savedAt: number;
}

export class LastGoodCache {
  readonly #file: string;

  constructor(dir: string) {
    this.#file = join(dir, 'last-good-config.json');
  }

  /** The config last saved from `source`; undefined when there is none (another store's, or unreadable). */
  async read(source: string): Promise<CachedConfig | undefined> {
    let saved: { format?: unknown; source?: unknown; savedAt?: unknown; document?: unknown };
    try {
      saved = JSON.parse(await readFile(this.#file, 'utf8'));
    } catch {
      return undefined;
    }
    if (saved?.format !== FORMAT || typeof saved.source !== 'string' || typeof saved.savedAt !== 'number' || saved.document === undefined) return undefined;
    if (saved.source !== source) return undefined;
    return { document: saved.document, source: saved.source, savedAt: saved.savedAt };
  }

  async write(source: string, document: unknown): Promise<void> {
    try {
      await writeFileAtomically(this.#file, JSON.stringify({ format: FORMAT, source, savedAt: Date.now(), document }));
    } catch {
      // NOTE: the cache is insurance; failing to write it must not reject a good config.
    }
  }
}
