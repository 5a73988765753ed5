/**
 * What a handler sees of a request and what it answers. Handlers return a `Reply`; the server
 * (server.ts) turns it into Consul's wire form, adding the query-meta headers when the reply
 * carries an index, so no handler sets those headers by hand.
 */
import type { Identity } from './acl.ts';
import type { Consistency } from './consistency.ts';

export interface Exchange {
  readonly method: string;
  /** The path after the route's prefix (the key, the service name, …), percent-decoded. */
  readonly rest: string;
  readonly params: URLSearchParams;
  /** The query string as sent, without the leading `?` (Consul echoes it in `Conflicting flags`). */
  readonly rawQuery: string;
  readonly body: Buffer;
  readonly identity: Identity;
  /** Aborts when the client goes away or the agent stops. */
  readonly signal: AbortSignal;
}

export interface Reply {
  readonly status?: number;
  /** Serialised as Consul does (minified, or indented with `?pretty`). */
  readonly json?: unknown;
  readonly text?: string;
  readonly raw?: Buffer;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** A read's index: adds X-Consul-Index (never 0), KnownLeader and LastContact. */
  readonly index?: number;
  readonly consistency?: Consistency;
}

export type Handler = (exchange: Exchange) => Reply | Promise<Reply>;

export interface Route {
  /** A path like `/v1/catalog/services`, or a prefix ending in `/` whose remainder is `rest`. */
  readonly path: string;
  readonly prefix: boolean;
  readonly methods: Readonly<Record<string, Handler>>;
}
