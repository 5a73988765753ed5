import { createServer } from 'node:https';
import { testCertificates } from '/work/main/test/support/tls.ts';
import { Pool } from 'undici';
const c = testCertificates();
const s = createServer({ cert: c.serverCert, key: c.serverKey, ca: c.ca, requestCert: true, rejectUnauthorized: true }, (q, r) => r.end('x'));
s.on('tlsClientError', (e) => console.log('server tlsClientError', (e as any).code));
await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
const port = (s.address() as any).port;
for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
  const p = new Pool(`https://127.0.0.1:${port}`, { connect: { ca: c.ca, maxVersion } });
  try { await p.request({ path: '/', method: 'POST', body: 'x' }); } catch (e: any) { console.log(maxVersion, e.code, e.message, e.cause?.code, e.socket); }
  await p.destroy();
}
s.close();
