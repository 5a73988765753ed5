/**
 * One variant of bench/consul-overhead.ts in a process of its own (overhead-caller.ts says
 * why a process each): a mesh calling the backend with its config from code (`static`), or
 * the same config from Consul KV (`consul`, control consul://127.0.0.1:<consul port>/meshlet),
 * so the KV watch is live, blocking query parked, while the calls run.
 *
 * argv: variant (`static` | `consul`), backend port, Consul port. Driven over IPC with the
 * overhead benchmark's throughput command.
 */
import { createMesh } from '../../src/index.ts';
import { openBlockingQueries } from '../../src/consul/blocking-watch.ts';
import { throughput } from './driver.ts';

export type ConsulCallerCommand = { readonly kind: 'throughput'; readonly concurrency: number; readonly ms: number };
export type ConsulCallerReply =
  | { readonly kind: 'ready'; readonly source: string; readonly openBlockingQueries: number }
  | { readonly kind: 'throughput'; readonly perSecond: number; readonly cpuPerCallUs: number };

const reply = (message: ConsulCallerReply): void => {
  process.send!(message);
};

const [variant = 'static', port = '0', consulPort = '0'] = process.argv.slice(2);
const mesh =
  variant === 'consul'
    ? await createMesh({ service: 'bench', control: `consul://127.0.0.1:${consulPort}/meshlet` })
    : await createMesh({ service: 'bench', config: { services: { api: { endpoints: [`127.0.0.1:${port}`] } } } });
const client = mesh.client('api');
const call = async (): Promise<void> => {
  const res = await client.request({ method: 'GET', path: '/' });
  await res.body.dump();
};
await call(); // fail here, not mid-run, if the variant cannot reach the backend
process.on('message', async (command: ConsulCallerCommand) => {
  const result = await throughput(call, command.concurrency, command.ms);
  reply({ kind: 'throughput', perSecond: result.perSecond, cpuPerCallUs: result.cpuPerCallUs });
});
process.on('disconnect', () => {
  void mesh.close().finally(() => process.exit(0));
});
const config = (mesh.state() as { config: { source: string } }).config;
reply({ kind: 'ready', source: config.source, openBlockingQueries: openBlockingQueries() });
