/**
 * meshlet in a Fastify 5 service, runnable: `node examples/fastify/main.ts`. A stand-in
 * "payments" service starts on loopback; the checkout service calls it through meshlet, asks
 * itself once with a 2 s deadline, prints the answer and shuts down in the adapter's order.
 * The README's Fastify snippet is the part between the markers (test/docs/readme.test.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { meshErrors, meshlet } from '../../adapters/fastify/index.ts';
import { createMesh } from '../../src/index.ts';

const standIn = createServer((_req, res) => res.end(JSON.stringify({ charged: true })));
await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
const paymentsAddress = `127.0.0.1:${(standIn.address() as AddressInfo).port}`;
const port = Number(process.env.PORT ?? 0);

// --- fastify ---
const mesh = await createMesh({ service: 'checkout', config: { services: { payments: { endpoints: [paymentsAddress], timeout: '2s' } } } });
const app = Fastify();
await app.register(meshlet, { mesh, defaultTimeout: '5s', maxTimeout: '30s', limits: { concurrency: 200 } });
app.setErrorHandler(meshErrors()); // an uncaught MeshError: 504/503/502 with its code, not its message
app.post('/checkout', async (request, reply) => {
  // Inherits what is left of the caller's deadline, its cancellation and its trace.
  const charge = await request.mesh.client('payments').request({ method: 'POST', path: '/charge', body: '{}', idempotent: true });
  reply.code(charge.statusCode);
  return charge.body.json();
});
await app.listen({ port, host: '127.0.0.1' });
process.once('SIGTERM', () => app.meshlet.shutdown()); // deregister, stop admitting, then app.close()
// --- end fastify ---

const answer = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/checkout`, { method: 'POST', headers: { 'x-meshlet-timeout-ms': '2000' } });
console.log(answer.status, await answer.json());
await app.meshlet.shutdown();
standIn.close();
