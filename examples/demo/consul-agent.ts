/**
 * The Consul the `--consul` demo talks to: the agent named by CONSUL_HTTP_ADDR (with
 * CONSUL_HTTP_TOKEN / CONSUL_CACERT, resolved as a mesh resolves them), else the in-repo
 * emulator started in this process, since no Consul binary is on our machines.
 *
 * On a real agent the demo must not touch the fleet's own config: it uses a KV prefix and a
 * service name of its own (with the process id) and deletes the prefix when it ends.
 */
import { resolveConsulAgent } from '../../src/consul/agent-options.ts';
import { ConsulClient } from '../../src/consul/client.ts';
import { startConsulEmulator } from '../../test/support/consul-emulator/index.ts';

export interface DemoConsul {
  /** The agent, e.g. `http://127.0.0.1:8500`. */
  readonly url: string;
  /** For the header: which Consul this is. */
  readonly label: string;
  /** The KV prefix the demo's config lives under. */
  readonly prefix: string;
  /** The Consul service name the demo's instances register as. */
  readonly service: string;
  /** The control URL for createMesh: consul://host:port/prefix (consul+https:// for an https agent). */
  readonly controlUrl: string;
  /** A client for the demo's own KV writes (the operator's side). */
  readonly client: ConsulClient;
  close(): Promise<void>;
}

export async function openDemoConsul(env: NodeJS.ProcessEnv = process.env): Promise<DemoConsul> {
  const real = env.CONSUL_HTTP_ADDR !== undefined && env.CONSUL_HTTP_ADDR !== '';
  const emulator = real ? undefined : await startConsulEmulator();
  const options = resolveConsulAgent({ ...(emulator !== undefined && { consul: { url: emulator.url } }), env })!;
  const client = new ConsulClient(options);
  const suffix = real ? `-${process.pid}` : '';
  const prefix = `meshlet-demo${suffix}`;
  const agent = new URL(options.url);
  const https = agent.protocol === 'https:';
  // A URL leaves out its scheme's default port, which is not Consul's default in a control URL.
  const port = agent.port !== '' ? agent.port : https ? '443' : '80';
  return {
    url: options.url,
    label: real ? `the agent at ${options.url} (CONSUL_HTTP_ADDR)` : `an in-process emulator (test/support/consul-emulator) at ${options.url}`,
    prefix,
    service: `demo-catalog${suffix}`,
    controlUrl: `${https ? 'consul+https' : 'consul'}://${agent.hostname}:${port}/${prefix}`,
    client,
    close: async () => {
      if (real) await client.kvDelete(`${prefix}/`, { recurse: true });
      await client.close();
      await emulator?.close();
    },
  };
}
