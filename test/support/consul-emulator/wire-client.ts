/**
 * Plain HTTP calls for the emulator's conformance tests and the real-agent adapter
 * (test/support/consul.ts): the status, lower-cased headers and body of one request, with
 * nothing interpreted, so a test asserts exactly what Consul put on the wire.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface WireResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  /** The body as JSON (throws when it is not). */
  json<T = unknown>(): T;
  /** X-Consul-Index as a number (NaN when absent). */
  readonly index: number;
}

export function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: string | Buffer; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    // agent: false: one connection per call, so a stopped agent is seen as a refused connection, not a stale pooled socket.
    const request = baseUrl.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(`${baseUrl}${path}`, { method, headers: options.headers, agent: false, signal: options.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          headers,
          body,
          json: <T>() => JSON.parse(body) as T,
          index: Number(headers['x-consul-index'] ?? Number.NaN),
        });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A client bound to one agent URL. */
export function consulHttp(baseUrl: string): {
  get(path: string, headers?: Record<string, string>): Promise<WireResponse>;
  put(path: string, body?: string | Buffer | object, headers?: Record<string, string>): Promise<WireResponse>;
  del(path: string, headers?: Record<string, string>): Promise<WireResponse>;
} {
  const encode = (body: string | Buffer | object | undefined): string | Buffer | undefined =>
    body === undefined || typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return {
    get: (path, headers) => call(baseUrl, 'GET', path, headers && { headers }),
    put: (path, body, headers) => call(baseUrl, 'PUT', path, { body: encode(body), ...(headers && { headers }) }),
    del: (path, headers) => call(baseUrl, 'DELETE', path, headers && { headers }),
  };
}

/** Polls `condition` every 5 ms (e.g. until a blocking query is parked). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
