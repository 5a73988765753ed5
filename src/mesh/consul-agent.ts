/**
 * The mesh's Consul agent: resolved once from createMesh's options (the `consul` option, the
 * control URL's agent, then CONSUL_HTTP_ADDR / CONSUL_HTTP_TOKEN: consul/agent-options.ts),
 * and the one ConsulClient made from it, lazily, so a mesh that never speaks to Consul opens
 * nothing. Discovery, registration and the control store ask it; a mesh with no agent
 * configured says so when something needs one, not at start-up.
 *
 * NOTE: shared process-wide watches (the KV control watch, health watches) make their own
 * client from `options()`, since the mesh that started one may close while others still watch.
 */
import { type ConsulAgentOption, resolveConsulAgent } from '../consul/agent-options.ts';
import { ConsulClient, type ConsulClientOptions } from '../consul/client.ts';
import type { Clock } from '../core/clock.ts';
import { MeshError } from '../core/errors.ts';

/** The part of createMesh's options that names the agent. */
export interface ConsulAgentSources {
  readonly consul?: ConsulAgentOption | undefined;
  readonly control?: unknown;
  readonly clock?: Clock | undefined;
  readonly baseDir?: string | undefined;
}

/** The mesh's agent, resolved once from its options and the environment (throws MESH_CONFIG_INVALID on a bad value). */
export function consulAgentFor(options: ConsulAgentSources): ConsulAgent {
  return new ConsulAgent(
    resolveConsulAgent({
      consul: options.consul,
      control: options.control,
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }),
    }),
  );
}

export class ConsulAgent {
  readonly #options: ConsulClientOptions | undefined;
  #client: ConsulClient | undefined;
  #closed = false;

  constructor(options: ConsulClientOptions | undefined) {
    this.#options = options;
  }

  /** True when an agent is configured (nothing is opened by asking). */
  get configured(): boolean {
    return this.#options !== undefined;
  }

  /** The agent's options (URL, token, CA, datacenter, clock); MESH_CONFIG_INVALID when none is configured. */
  options(): ConsulClientOptions {
    if (this.#options === undefined) throw noAgent();
    return this.#options;
  }

  /** The mesh's one client of the agent, made on first use. */
  client(): ConsulClient {
    if (this.#closed) throw new MeshError('MESH_CLOSED', 'the mesh is closed, and its Consul client with it; create a new mesh to talk to Consul again');
    this.#client ??= new ConsulClient(this.options());
    return this.#client;
  }

  /** Closes the client if one was made; called last in mesh.close(). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#client?.close();
  }
}

function noAgent(): MeshError {
  return new MeshError(
    'MESH_CONFIG_INVALID',
    'no Consul agent is configured: give createMesh a `consul: { url }` option or set CONSUL_HTTP_ADDR',
  );
}
