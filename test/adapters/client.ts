/** A bare HTTP client for the adapter tests: one connection per request (nothing pooled stays open), abortable. */
import { request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  /** Milliseconds from sending to the end of the body. */
  readonly ms: number;
}

export function get(url: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Answer> {
  return send(url, 'GET', undefined, headers, signal);
}

/** A POST with a JSON body (the framework reads it before the handler runs). */
export function post(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Answer> {
  return send(url, 'POST', JSON.stringify(body), { 'content-type': 'application/json', ...headers }, signal);
}

function send(url: string, method: string, body: string | undefined, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false, ...(signal && { signal }) }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, ms: performance.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
