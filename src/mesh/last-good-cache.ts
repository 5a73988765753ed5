/**
 * The last control-store config that was applied, kept on disk (`<cacheDir>/last-good-config-<hash>.json`;
 * discovery keeps endpoint lists beside it, in `<cacheDir>/endpoints/`), so a service restarted
 * while the control store is unreachable starts from the fleet's config rather than from its
 * bootstrap alone. Written atomically (temp file + rename). The file records when it was
 * saved, so state() can say how old the config in force is, and which store it came from.
 * It stands in only for that store: a cacheDir shared by two services on a host (or a mesh
 * moved to another prefix) must not start one fleet on another fleet's config, so each store
 * gets its own file, named by a hash of the store's (redacted) address: two services on two
 * stores sharing a cacheDir each keep their copy instead of overwriting one file in turn.
 * A `last-good-config.json` from before is still read (its source is checked the same way).
 *
 * NOTE: `savedAt` is wall-clock time (Date.now), not the mesh's monotonic clock: the age must
 * survive a restart.
 */
import { createHash } from 'node:crypto';
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

/** The file of one store's copy: the hash keeps store addresses (and their characters) out of file names. */
export function lastGoodFileName(source: string): string {
  return `last-good-config-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.json`;
}

export class LastGoodCache {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The config last saved from `source`; undefined when there is none (another store's, or unreadable). */
  async read(source: string): Promise<CachedConfig | undefined> {
    return (await this.#readFile(lastGoodFileName(source), source)) ?? (await this.#readFile('last-good-config.json', source));
  }

  async #readFile(name: string, source: string): Promise<CachedConfig | undefined> {
    let saved: { format?: unknown; source?: unknown; savedAt?: unknown; document?: unknown };
    try {
      saved = JSON.parse(await readFile(join(this.#dir, name), 'utf8'));
    } catch {
      return undefined;
    }
    if (saved?.format !== FORMAT || typeof saved.source !== 'string' || typeof saved.savedAt !== 'number' || saved.document === undefined) return undefined;
    if (saved.source !== source) return undefined;
    return { document: saved.document, source: saved.source, savedAt: saved.savedAt };
  }

  async write(source: string, document: unknown): Promise<void> {
    try {
      await writeFileAtomically(join(this.#dir, lastGoodFileName(source)), JSON.stringify({ format: FORMAT, source, savedAt: Date.now(), document }));
    } catch {
      // NOTE: the cache is insurance; failing to write it must not reject a good config.
    }
  }
}
