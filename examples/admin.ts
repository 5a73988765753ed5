/**
 * Mounting the admin dashboard (README "Admin dashboard"): on a bare `http` server, in
 * Express under a prefix with a token, in Fastify through the raw request and response, and in
 * Nest on its Express platform.
 * Type-checked, exercised by test/admin/mounting.test.ts against a real mesh, and the README
 * quotes the part between the markers verbatim (the same test checks it).
 */
import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import type { FastifyInstance } from 'fastify';
import type { INestApplication } from '@nestjs/common';
import type { Mesh } from '../src/index.ts';

// --- admin dashboard ---
// A bare server: the dashboard at http://127.0.0.1:9901/admin/, for loopback clients only.
export function serveAdmin(mesh: Mesh, port = 9901): Server {
  const admin = mesh.adminHandler();
  return createServer((req, res) => {
    if (req.url?.startsWith('/admin/')) return admin(req, res);
    res.statusCode = 404;
    res.end();
  }).listen(port, '127.0.0.1');
}

// Express, under any prefix; with a token, any client that sends it (Bearer or ?token=).
export function mountInExpress(mesh: Mesh, app: Express, token: string): void {
  app.use('/admin', mesh.adminHandler({ token }));
}

// Fastify: hand the handler the raw request and response.
export function mountInFastify(mesh: Mesh, app: FastifyInstance): void {
  const admin = mesh.adminHandler();
  app.get('/admin/*', (request, reply) => {
    reply.hijack();
    admin(request.raw, reply.raw);
  });
}

// Nest on its Express platform: as Express.
export function mountInNest(mesh: Mesh, app: INestApplication): void {
  app.use('/admin', mesh.adminHandler());
}
// --- end admin dashboard ---
