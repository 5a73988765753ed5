/**
 * A script that registers in Consul with a 1 s TTL and ends without closing its mesh (argv:
 * the agent URL, then `close` or `leave`). It must exit on its own: the heartbeat runs on
 * background timers. Prints the registration's state as its last line.
 */
import { createMesh } from '../../../src/index.ts';

const [url, ending] = process.argv.slice(2);
const mesh = await createMesh({ service: 'one-shot', consul: { url: url! } });
await mesh.register({ name: 'reg-liveness', port: 9100, check: { ttl: '1s' } });
// Long enough for heartbeats to be armed and sent (every 333 ms).
await new Promise((resolve) => setTimeout(resolve, 800));
if (ending === 'close') await mesh.close();
process.stdout.write(`${JSON.stringify(mesh.state().registrations)}\n`);
