/**
 * A Consul agent emulator for tests: a loopback HTTP server speaking the part of Consul's HTTP
 * API meshlet uses, with Consul's semantics (indexes, blocking, 404s with index headers, ACL
 * bodies), plus direct helpers and fault hooks a real agent cannot offer. No Consul binary
 * exists on our machines; conformance against recorded real responses and node-consul's
 * acceptance scenarios lives in test/consul-emulator/.
 *
 * ```ts
 * const consul = await startConsulEmulator();
 * t.after(() => consul.close());
 * await consul.kv.put('meshlet/defaults', '{"timeout":"1s"}');
 * ```
 */
import { Acl, type AclOptions } from './acl.ts';
import { agentRoutes, applyRegistration } from './agent-handlers.ts';
import type { BlockingOptions } from './blocking.ts';
import { Catalog, type CheckStatus } from './catalog.ts';
import { CheckRunner, type ReaperOptions } from './check-runner.ts';
import { configRoutes } from './config-handlers.ts';
import { ConfigStore } from './config-store.ts';
import { Faults } from './faults.ts';
import { healthRoutes } from './health-handlers.ts';
import { kvRoutes } from './kv-handlers.ts';
import { KvStore } from './kv-store.ts';
import { RaftLog, restoredIndex } from './raft-log.ts';
import { EmulatorServer, type LoggedRequest } from './server.ts';

export type { AclOptions, AclToken } from './acl.ts';
export type { CheckStatus } from './catalog.ts';
export type { LoggedRequest } from './server.ts';

export interface ConsulEmulatorOptions {
  /** Port to listen on (default: any free port; restarts reuse it). */
  readonly port?: number;
  /** Enables ACLs; without it every request is allowed and the default policy reads `allow`. */
  readonly acl?: AclOptions;
  /** Adds Consul's random wait/16 to blocking waits (default off, so tests can time waits); a function supplies the draw in [0, 1). */
  readonly jitter?: boolean | (() => number);
  /** The DeregisterCriticalServiceAfter reaper's period and floor (Consul: 30 s, 1 m). */
  readonly reaper?: ReaperOptions;
}

/** A KV entry as the direct helpers return it. */
export interface KvValue {
  readonly key: string;
  /** UTF-8 text of the value; null when the value is empty. */
  readonly value: string | null;
  readonly flags: number;
  readonly createIndex: number;
  readonly modifyIndex: number;
}

/** What tests use; the real-agent adapter in test/support/consul.ts implements the same minus `faults`. */
export interface ConsulForTests {
  readonly url: string;
  readonly port: number;
  readonly kv: {
    put(key: string, value: string | Buffer, flags?: number): Promise<void>;
    delete(key: string, options?: { recurse?: boolean }): Promise<void>;
    get(key: string): Promise<KvValue | undefined>;
  };
  readonly catalog: {
    /** Registers like PUT /v1/agent/service/register with Consul's body (Name, ID, Tags, Check, …). */
    register(definition: Record<string, unknown>): Promise<void>;
    deregister(id: string): Promise<void>;
    /** Sets a check's status like a TTL update would (any check kind). */
    setCheck(checkId: string, status: CheckStatus, output?: string): Promise<void>;
  };
  close(): Promise<void>;
}

export interface ConsulEmulator extends ConsulForTests {
  readonly faults: {
    /** A snapshot restore: every index goes backwards and parked blocking queries return at once. */
    restoreSnapshot(): void;
    /** While on, reads answer `X-Consul-Index: 0`. */
    zeroIndex(on: boolean): void;
    /** The next `count` requests answer `status` (500, 429, …) with `body`. */
    failNext(count: number, status: number, body?: string): void;
    /** The next `count` requests are never answered (until stop() or close()). */
    hangNext(count: number): void;
  };
  /** Blocking queries parked right now. */
  readonly openBlockingQueries: number;
  /** Every request received, in order (never a token value). */
  readonly requests: readonly LoggedRequest[];
  /** Stops the agent: listener closed, connections destroyed, new connections refused. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same state. */
  start(): Promise<void>;
}

export async function startConsulEmulator(options: ConsulEmulatorOptions = {}): Promise<ConsulEmulator> {
  const raft = new RaftLog();
  const kv = new KvStore(raft);
  const catalog = new Catalog(raft);
  const checks = new CheckRunner(catalog, options.reaper);
  const config = new ConfigStore(raft);
  const faults = new Faults();
  const blocking: BlockingOptions = { raft, jitter: options.jitter ?? false, parked: { count: 0 } };
  const server = new EmulatorServer({
    routes: [...kvRoutes(kv, blocking), ...healthRoutes(catalog, blocking), ...agentRoutes(catalog, checks), ...configRoutes(config, blocking)],
    acl: new Acl(options.acl),
    faults,
  });
  await server.start(options.port ?? 0);
  checks.resume();

  return {
    get url() {
      return `http://127.0.0.1:${server.port}`;
    },
    get port() {
      return server.port;
    },
    kv: {
      put: async (key, value, flags = 0) => {
        const bytes = typeof value === 'string' ? Buffer.from(value) : value;
        kv.put(key, bytes.length === 0 ? null : bytes, flags);
      },
      delete: async (key, deleteOptions) => {
        if (deleteOptions?.recurse) kv.deleteTree(key);
        else kv.delete(key);
      },
      get: async (key) => {
        const entry = kv.get(key);
        if (entry === undefined) return undefined;
        const { value, flags, createIndex, modifyIndex } = entry;
        return { key, value: value === null ? null : value.toString('utf8'), flags, createIndex, modifyIndex };
      },
    },
    catalog: {
      register: async (definition) => applyRegistration(catalog, checks, definition),
      deregister: async (id) => {
        checks.removeService(id);
        catalog.deregister(id);
      },
      setCheck: async (checkId, status, output) => {
        if (!catalog.setCheck(checkId, status, output)) throw new Error(`the emulator has no check ${JSON.stringify(checkId)}`);
      },
    },
    faults: {
      restoreSnapshot: () => {
        kv.restore();
        catalog.restore();
        config.restore();
        raft.restore(restoredIndex);
      },
      zeroIndex: (on) => {
        faults.zeroIndex = on;
      },
      failNext: (count, status, body) => faults.failNext(count, status, body),
      hangNext: (count) => faults.hangNext(count),
    },
    get openBlockingQueries() {
      return blocking.parked.count;
    },
    requests: server.requests,
    stop: async () => {
      checks.pause();
      await server.stop();
    },
    start: async () => {
      await server.start();
      checks.resume();
    },
    close: async () => {
      checks.pause();
      await server.stop();
    },
  };
}
