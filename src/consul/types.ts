/**
 * The shapes meshlet reads from and sends to Consul's HTTP API (../shared/CONSUL.md §1–§3).
 * Field names follow Consul's JSON where meshlet passes Consul's objects through (health
 * entries, registrations), and camelCase where the client decodes them (KV entries, whose
 * base64 values and uint64 indexes need converting anyway).
 */

export interface QueryOptions {
  /** Blocking when > 0n: Consul answers once its index passes this one, or after `wait`. */
  readonly index?: bigint;
  /** Go duration, e.g. '30s' (Consul's default is 5m, its maximum 10m). */
  readonly wait?: string;
  /** Any server may answer, not only the leader (`?stale`): cheaper, possibly a little behind. */
  readonly stale?: boolean;
  readonly signal?: AbortSignal;
  /** A watch's round nobody awaits: its timeout never keeps the process alive, even at index 0. */
  readonly background?: boolean;
}

export interface QueryResult<T> {
  readonly value: T;
  /** X-Consul-Index; 0n when absent or 0 (the caller's watch sanity-checks it, BLKDOC rule 2). */
  readonly index: bigint;
  readonly knownLeader: boolean | undefined;
  readonly lastContactMs: number | undefined;
  /** X-Consul-Default-ACL-Policy (Consul >= 1.9, on every answer): 'deny' means an anonymous read sees only what the anonymous token may. */
  readonly defaultAclPolicy?: 'allow' | 'deny' | undefined;
}

export interface KvEntry {
  readonly key: string;
  /** The value's bytes; null for a key stored without a value. */
  readonly value: Buffer | null;
  readonly flags: number;
  readonly createIndex: bigint;
  /** What `cas` compares against. */
  readonly modifyIndex: bigint;
}

/** One instance in `/v1/health/service/:name`, the fields meshlet reads (HEALTHDOC). */
export interface HealthServiceEntry {
  readonly Node: {
    readonly Node: string;
    readonly Address: string;
    readonly Datacenter?: string;
    readonly Meta?: Record<string, string> | null;
  };
  readonly Service: {
    readonly ID: string;
    readonly Service: string;
    /** Empty when the service did not set one: the node's address applies. */
    readonly Address: string;
    readonly Port: number;
    readonly Tags: readonly string[] | null;
    readonly Meta: Record<string, string> | null;
    readonly Weights?: { readonly Passing: number; readonly Warning: number };
  };
  readonly Checks: readonly {
    readonly CheckID: string;
    readonly Status: 'passing' | 'warning' | 'critical' | 'maintenance';
    readonly ServiceID: string;
    readonly Output?: string;
  }[];
}

/** A check in a service registration (CHKDOC); durations are Go duration strings. */
export interface ServiceCheckDefinition {
  CheckID?: string;
  Name?: string;
  TTL?: string;
  HTTP?: string;
  Method?: string;
  Header?: Record<string, string[]>;
  Interval?: string;
  Timeout?: string;
  TLSSkipVerify?: boolean;
  DeregisterCriticalServiceAfter?: string;
  Status?: 'passing' | 'warning' | 'critical';
  Notes?: string;
}

/** The body of `PUT /v1/agent/service/register` (SVCDOC). */
export interface ServiceRegistration {
  Name: string;
  ID?: string;
  Address?: string;
  Port?: number;
  Tags?: string[];
  Meta?: Record<string, string>;
  Weights?: { Passing: number; Warning: number };
  Check?: ServiceCheckDefinition;
  Checks?: ServiceCheckDefinition[];
}
