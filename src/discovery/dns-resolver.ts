/**
 * DNS discovery: A/AAAA (through the system resolver, as every other client on the host
 * sees the name) or SRV (port and weight from the record), re-resolved every `interval`.
 *
 * A failed lookup reports `error` and keeps the last good list: a DNS blip must not empty a
 * healthy pool. NOTE: an empty answer (ENOTFOUND / ENODATA, or records all filtered out) is
 * treated as a failure too, not as "zero endpoints". getaddrinfo folds transient resolver
 * trouble into ENOTFOUND, and stale endpoints fail fast (refused, then retried elsewhere and
 * ejected) while an empty list fails every call; a service being removed is a config change.
 */
import { promises as dns, type SrvRecord } from 'node:dns';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EndpointAddress } from '../core/endpoint.ts';
import { MAX_DNS_ANSWERS, fingerprint, fromLookup, fromSrv } from './dns-answers.ts';
import type { Resolver, ResolverListener } from './resolver.ts';

export interface DnsLookups {
  /** All A/AAAA addresses of a name. */
  lookup(name: string): Promise<readonly { readonly address: string }[]>;
  resolveSrv(name: string): Promise<readonly SrvRecord[]>;
}

export interface DnsResolverOptions {
  readonly name: string;
  /** Port for A/AAAA answers; default 80 for http, 443 for https. */
  readonly port: number | undefined;
  readonly record: 'a' | 'srv';
  readonly interval: number;
  readonly protocol: 'http' | 'https';
  readonly maxAnswers?: number;
}

/** node:dns: `lookup` for A/AAAA (honours /etc/hosts), c-ares for SRV (optionally on given servers). */
export function systemDns(servers?: readonly string[]): DnsLookups {
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  if (servers !== undefined) resolver.setServers([...servers]);
  return {
    lookup: (name) => dns.lookup(name, { all: true }),
    resolveSrv: (name) => resolver.resolveSrv(name),
  };
}

export class DnsResolver implements Resolver {
  readonly #options: DnsResolverOptions;
  readonly #clock: Clock;
  readonly #dns: DnsLookups;
  #listener: ResolverListener | undefined;
  #timer: TimerHandle | undefined;
  #closed = false;
  #lastFingerprint: string | undefined;

  constructor(options: DnsResolverOptions, clock: Clock, lookups: DnsLookups = systemDns()) {
    this.#options = options;
    this.#clock = clock;
    this.#dns = lookups;
  }

  async start(listener: ResolverListener): Promise<void> {
    this.#listener = listener;
    await this.#resolveAndReschedule();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  async #resolveAndReschedule(): Promise<void> {
    try {
      await this.#resolveOnce();
    } finally {
      // Scheduled after the answer, not at a fixed rate: a slow lookup never overlaps the
      // next. In `finally`, so a throwing listener cannot stop re-resolution for good.
      if (!this.#closed) this.#timer = this.#clock.setTimer(() => this.#onTimer(), this.#options.interval);
    }
  }

  #onTimer(): void {
    this.#resolveAndReschedule().catch((error: unknown) => {
      // NOTE: only a listener bug lands here; surface it like an emitter does, off this stack.
      queueMicrotask(() => {
        throw error;
      });
    });
  }

  async #resolveOnce(): Promise<void> {
    const listener = this.#listener!;
    let endpoints: EndpointAddress[];
    try {
      endpoints = await this.#query();
    } catch (error) {
      if (!this.#closed) listener.error(describe(error, this.#options.name));
      return;
    }
    if (this.#closed) return;
    if (endpoints.length === 0) {
      listener.error(new Error(`DNS answer for ${this.#options.name} had no usable records; keeping the last good endpoints`));
      return;
    }
    const key = fingerprint(endpoints);
    // Unchanged answers are not news: the balancer would rebuild its picker for nothing.
    // They do end an earlier failure, though.
    if (key === this.#lastFingerprint) {
      listener.confirmed?.();
      return;
    }
    this.#lastFingerprint = key;
    listener.update(endpoints);
  }

  async #query(): Promise<EndpointAddress[]> {
    const { name, protocol, record } = this.#options;
    const max = this.#options.maxAnswers ?? MAX_DNS_ANSWERS;
    if (record === 'srv') return fromSrv(await this.#dns.resolveSrv(name), protocol, max);
    const port = this.#options.port ?? (protocol === 'https' ? 443 : 80);
    return fromLookup(await this.#dns.lookup(name), port, protocol, max);
  }
}

function describe(error: unknown, name: string): Error {
  const code = (error as { code?: unknown } | null)?.code;
  const message = `DNS lookup of ${name} failed${typeof code === 'string' ? ` (${code})` : ''}; keeping the last good endpoints`;
  return new Error(message, { cause: error });
}
