import { validateMeshConfig } from './src/config/validate.ts';
import { resolveConfig } from './src/config/resolve.ts';
const b = validateMeshConfig({ defaults: { retry: { attempts: 3 }, breaker: true }, services: { a: { endpoints: ['127.0.0.1:1'], breaker: { openFor: '1s' }, concurrency: { max: 5 } }, b: { discovery: { type: 'dns', name: 'x.internal' }, fault: { delay: { percent: 5, duration: '10ms' } } } } });
const c = validateMeshConfig({ defaults: { retry: { backoff: { max: '1s' } } }, services: { a: { retry: false, hedge: { after: '40ms' } }, c: { endpoints: ['h:2'], rateLimit: { rps: 2.5 }, concurrency: true } } });
const r = resolveConfig({ bootstrap: b, control: c });
for (const [k, v] of r.services) console.log(k, JSON.stringify(v));
try { resolveConfig({ bootstrap: validateMeshConfig({ services: { x: { rateLimit: { scope: 'global' }, tls: { ca: './nope.pem', cert: 'c.pem' } } } }) }); } catch (e: any) { console.log(e.message, e.issues); }
