/**
 * The README's quick start, runnable: `node examples/quickstart.ts` (Node ≥ 22.12).
 * It starts a stand-in "payments" service on loopback so it runs anywhere.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMesh, isMeshError } from '../src/index.ts';

const payments = createServer((_req, res) => res.end(JSON.stringify({ charged: true })));
await new Promise<void>((resolve) => payments.listen(0, '127.0.0.1', resolve));
const port = (payments.address() as AddressInfo).port;

// --- quick start ---
const mesh = await createMesh({
  service: 'checkout',
  config: {
    services: {
      payments: {
        endpoints: [`127.0.0.1:${port}`],
        timeout: '2s',
        retry: { attempts: 3 },
      },
    },
  },
});

try {
  const res = await mesh.client('payments').request({
    method: 'POST',
    path: '/charge',
    headers: { 'content-type': 'application/json', 'idempotency-key': 'order-42' },
    body: JSON.stringify({ order: 42, cents: 1999 }),
  });
  console.log(res.statusCode, await res.body.json());
} catch (error) {
  if (isMeshError(error)) console.error(error.code, error.message);
  else throw error;
}
await mesh.close();
// --- end quick start ---

payments.close();
