/**
 * meshlet in a NestJS 12 service, runnable: `node examples/nestjs/main.ts` (Express platform;
 * `new FastifyAdapter()` from @nestjs/platform-fastify works the same). A stand-in "payments"
 * service starts on loopback; the checkout controller gets its client injected by name, the
 * app asks itself once with a 2 s deadline, prints the answer and closes (deregister, stop
 * admitting, drain, close the mesh). Decorators are applied as functions, since Node runs this
 * TypeScript by type stripping; with decorator syntax, write `@Controller('/')`,
 * `@InjectUpstream('payments')` on the constructor parameter and `@Post('/checkout')`.
 * The README's Nest snippet is the part between the markers (test/docs/readme.test.ts).
 */
import 'reflect-metadata';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Controller, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { InjectUpstream, MeshModule } from '../../adapters/nestjs/index.ts';
import type { ServiceClient } from '../../src/index.ts';

const standIn = createServer((_req, res) => res.end(JSON.stringify({ charged: true })));
await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
const paymentsAddress = `127.0.0.1:${(standIn.address() as AddressInfo).port}`;
const port = Number(process.env.PORT ?? 0);

// --- nestjs ---
class CheckoutController {
  readonly #payments: ServiceClient;
  constructor(payments: ServiceClient) {
    this.#payments = payments;
  }
  async checkout(): Promise<unknown> {
    // Inherits what is left of the caller's deadline, its cancellation and its trace.
    const charge = await this.#payments.request({ method: 'POST', path: '/charge', body: '{}', idempotent: true });
    return charge.body.json();
  }
}
Controller('/')(CheckoutController);
InjectUpstream('payments')(CheckoutController, undefined, 0);
Post('/checkout')(CheckoutController.prototype, 'checkout', Object.getOwnPropertyDescriptor(CheckoutController.prototype, 'checkout')!);

class AppModule {}
Module({
  imports: [
    MeshModule.forRootAsync({
      upstreams: ['payments'],
      useFactory: () => ({
        mesh: { service: 'checkout', config: { services: { payments: { endpoints: [paymentsAddress], timeout: '2s' } } } },
        defaultTimeout: '5s',
        maxTimeout: '30s',
      }),
    }),
  ],
  controllers: [CheckoutController],
})(AppModule);

const app = await NestFactory.create(AppModule, { logger: false });
app.enableShutdownHooks(); // SIGTERM: deregister, stop admitting, drain, close the mesh
await app.listen(port, '127.0.0.1');
// --- end nestjs ---

const answer = await fetch(`${await app.getUrl()}/checkout`, { method: 'POST', headers: { 'x-meshlet-timeout-ms': '2000' } });
console.log(answer.status, await answer.json());
await app.close();
standIn.close();
