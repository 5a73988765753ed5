/**
 * A one-shot script whose config comes from Consul KV (consul-control-liveness.test.ts): it
 * makes a mesh on the control URL given in argv, makes one call to `api`, prints what it got
 * and what state() says of the control store, and ends WITHOUT mesh.close(): the KV watch
 * (a parked blocking query, or backoff timers while Consul is down) must not hold it open.
 * argv: control URL, bootstrap config (JSON).
 */
import { createMesh, isMeshError } from '../../../src/index.ts';

const [control = '', bootstrap = '{}'] = process.argv.slice(2);
const mesh = await createMesh({ service: 'one-shot', control, config: JSON.parse(bootstrap) });
let result: number | string;
try {
  const res = await mesh.client('api').request({ path: '/' });
  result = ((await res.body.json()) as { port: number }).port;
} catch (error) {
  result = isMeshError(error) ? error.code : String(error);
}
const { control: status } = (mesh.state() as { config: { control: { status: string } } }).config;
console.log(JSON.stringify({ result, status: status.status }));
