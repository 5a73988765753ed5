/**
 * The Consul agent a test talks to: the in-repo emulator (test/support/consul-emulator/), or,
 * when CONSUL_HTTP_ADDR is set, a real agent behind the same interface, so one suite checks
 * meshlet against both (`CONSUL_HTTP_ADDR=127.0.0.1:8500 npm test`). Against a real agent the
 * direct helpers go through the HTTP API, what a test wrote is removed on close(), and the
 * emulator-only powers (fault hooks, ACL set-up, stop/start) are absent: a test needing them
 * calls `emulatorOnly(t, consul)`, which skips it with the reason.
 */
import type { TestContext } from 'node:test';
import { type ConsulEmulator, type ConsulEmulatorOptions, type ConsulForTests, startConsulEmulator } from './consul-emulator/index.ts';
import { call } from './consul-emulator/wire-client.ts';

export type { ConsulEmulator, ConsulForTests } from './consul-emulator/index.ts';

export interface TestConsul extends ConsulForTests {
  /** The emulator, or undefined against a real agent. */
  readonly emulator: ConsulEmulator | undefined;
  /** The token a real agent needs (CONSUL_HTTP_TOKEN), for clients the test builds. */
  readonly token: string | undefined;
}

/**
 * Starts the emulator, or adapts the agent at CONSUL_HTTP_ADDR. Options that only the emulator
 * can honour (acl, reaper, port) make the test skip against a real agent.
 */
export async function consulForTests(options: ConsulEmulatorOptions = {}, env = process.env): Promise<TestConsul> {
  const address = env.CONSUL_HTTP_ADDR;
  if (address === undefined || address === '') {
    const emulator = await startConsulEmulator(options);
    // Extends the emulator object itself, so its live getters (url, openBlockingQueries) stay live.
    return Object.assign(emulator, { emulator, token: undefined });
  }
  return realAgent(address, env.CONSUL_HTTP_TOKEN || undefined);
}

/** The emulator behind `consul`, or skips the test (fault hooks, ACL set-up and stop/start exist only there). */
export function emulatorOnly(t: TestContext, consul: TestConsul): ConsulEmulator | undefined {
  if (consul.emulator === undefined) t.skip("needs the emulator's fault hooks (running against a real agent)");
  return consul.emulator;
}

function realAgent(address: string, token: string | undefined): TestConsul {
  const url = /^https?:\/\//.test(address) ? address.replace(/\/$/, '') : `http://${address}`;
  const headers: Record<string, string> = token === undefined ? {} : { 'X-Consul-Token': token };
  const written = new Set<string>();
  const registered = new Set<string>();
  const ok = async (method: string, path: string, body?: string | Buffer) => {
    const res = await call(url, method, path, { headers, ...(body !== undefined && { body }) });
    // The path is ours; the token is never part of it, so the message is safe to show.
    if (res.status >= 300 && !(method === 'GET' && res.status === 404)) throw new Error(`${method} ${path} → ${res.status} ${res.body}`);
    return res;
  };
  const encode = (key: string) => key.split('/').map(encodeURIComponent).join('/');
  return {
    emulator: undefined,
    token,
    url,
    port: Number(new URL(url).port || 8500),
    kv: {
      put: async (key, value, flags = 0) => {
        written.add(key);
        await ok('PUT', `/v1/kv/${encode(key)}?flags=${flags}`, value);
      },
      delete: async (key, options) => {
        await ok('DELETE', `/v1/kv/${encode(key)}${options?.recurse ? '?recurse' : ''}`);
      },
      get: async (key) => {
        const res = await ok('GET', `/v1/kv/${encode(key)}`);
        if (res.status === 404) return undefined;
        const [entry] = res.json<{ Key: string; Value: string | null; Flags: number; CreateIndex: number; ModifyIndex: number }[]>();
        if (entry === undefined) return undefined;
        const value = entry.Value === null ? null : Buffer.from(entry.Value, 'base64').toString('utf8');
        return { key: entry.Key, value, flags: entry.Flags, createIndex: entry.CreateIndex, modifyIndex: entry.ModifyIndex };
      },
    },
    catalog: {
      register: async (definition) => {
        const id = String(definition.ID ?? definition.Name);
        registered.add(id);
        await ok('PUT', '/v1/agent/service/register', JSON.stringify(definition));
      },
      deregister: async (id) => {
        registered.delete(id);
        await ok('PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`);
      },
      // A real agent sets only TTL checks from outside, through the update endpoint.
      setCheck: async (checkId, status, output = '') => {
        await ok('PUT', `/v1/agent/check/update/${encodeURIComponent(checkId)}`, JSON.stringify({ Status: status, Output: output }));
      },
    },
    close: async () => {
      for (const key of written) await call(url, 'DELETE', `/v1/kv/${encode(key)}`, { headers });
      for (const id of registered) await call(url, 'PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`, { headers });
    },
  };
}
