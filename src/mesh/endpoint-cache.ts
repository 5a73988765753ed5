/**
 * The endpoint lists discovery last saw, one file per service and question (the store and query
 * that found them) under `<cacheDir>/endpoints/`,
 * so a process restarted while Consul is unreachable starts on the instances it last saw
 * (discovery/known-endpoints.ts says why). Each save replaces the file atomically; saves of
 * one file are queued and only the newest waits, so a burst of changes costs one write.
 *
 * Per question, not per service: two services on two Consul agents sharing a cacheDir, each
 * calling an `api`, would otherwise overwrite one `api` file in turn, and after a restart during
 * an outage only the last writer would find its list (the question check refused the other's).
 * A `<service>.json` from before is still read, question-checked the same way.
 *
 * NOTE: a file is read back as untrusted input: each endpoint is rebuilt through makeAddress,
 * and anything malformed makes the whole file count as absent.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EndpointAddress } from '../core/endpoint.ts';
import { makeAddress } from '../discovery/address.ts';
import type { KnownEndpointsStore, SavedEndpoints } from '../discovery/known-endpoints.ts';
import { writeFileAtomically } from './atomic-file.ts';

interface EndpointFile {
  readonly question: string;
  readonly savedAt: number;
  readonly endpoints: readonly EndpointAddress[];
}

interface PendingSave {
  running: Promise<void>;
  next: string | undefined;
}

export class EndpointCache implements KnownEndpointsStore {
  readonly #dir: string;
  readonly #saves = new Map<string, PendingSave>();

  constructor(cacheDir: string) {
    this.#dir = join(cacheDir, 'endpoints');
  }

  /** Where a service's list for a question is kept (service names are file-name safe: schema.ts SERVICE_NAME). */
  fileOf(service: string, question: string): string {
    return join(this.#dir, `${service}-${createHash('sha256').update(question).digest('hex').slice(0, 16)}.json`);
  }

  async read(service: string, question: string): Promise<SavedEndpoints | undefined> {
    return (await this.#readFile(this.fileOf(service, question), question)) ?? (await this.#readFile(join(this.#dir, `${service}.json`), question));
  }

  async #readFile(file: string, question: string): Promise<SavedEndpoints | undefined> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      return undefined;
    }
    return decode(parsed, question);
  }

  write(service: string, question: string, endpoints: readonly EndpointAddress[]): void {
    const content: EndpointFile = { question, savedAt: Date.now(), endpoints };
    const text = JSON.stringify(content);
    const file = this.fileOf(service, question);
    const pending = this.#saves.get(file);
    if (pending !== undefined) {
      pending.next = text;
      return;
    }
    const save: PendingSave = { running: Promise.resolve(), next: text };
    this.#saves.set(file, save);
    save.running = this.#drain(file, save);
  }

  ageOf(saved: SavedEndpoints): number {
    return Math.max(0, Date.now() - saved.savedAt);
  }

  /** Resolves once every save asked for so far is on disk (or has failed). */
  async flushed(): Promise<void> {
    await Promise.all([...this.#saves.values()].map((save) => save.running));
  }

  async #drain(file: string, save: PendingSave): Promise<void> {
    while (save.next !== undefined) {
      const text = save.next;
      save.next = undefined;
      try {
        await writeFileAtomically(file, text);
      } catch {
        // NOTE: the cache is insurance; a full disk must not disturb discovery.
      }
    }
    this.#saves.delete(file);
  }
}

function decode(value: unknown, question: string): SavedEndpoints | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const file = value as Partial<EndpointFile>;
  if (file.question !== question || typeof file.savedAt !== 'number' || !Array.isArray(file.endpoints)) return undefined;
  const endpoints: EndpointAddress[] = [];
  for (const item of file.endpoints as unknown[]) {
    const endpoint = decodeEndpoint(item);
    if (endpoint === undefined) return undefined;
    endpoints.push(endpoint);
  }
  return { endpoints, savedAt: file.savedAt };
}

function decodeEndpoint(value: unknown): EndpointAddress | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { protocol, host, port, weight, tags, meta } = value as Record<string, unknown>;
  if (protocol !== 'http' && protocol !== 'https') return undefined;
  if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1) return undefined;
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === 'string')) return undefined;
  if (typeof meta !== 'object' || meta === null || !Object.values(meta).every((v) => typeof v === 'string')) return undefined;
  return makeAddress(protocol, host, port, { weight, tags: [...tags], meta: { ...(meta as Record<string, string>) } });
}
