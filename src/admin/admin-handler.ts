/**
 * `mesh.adminHandler(options)`: one Node request handler, `(req, res, next?)`, that a bare
 * `http` server, Express (`app.use('/admin', handler)`), Fastify (`reply.hijack()` then
 * `handler(request.raw, reply.raw)`) or Nest can mount under any prefix. It routes on the
 * last segment of the path only (`…/`, `…/state.json`, `…/config.json`), and the page fetches
 * relative to where it was loaded, so no prefix has to be configured.
 *
 * The dashboard polls state.json once a second rather than holding a server-sent-event
 * stream: nothing runs on the server while nobody looks, a closed tab costs nothing, and any
 * proxy passes it.
 *
 * The call statistics and the event log are made once per mesh, when its first handler is
 * made (nothing is collected before), and shared by its handlers; they go with the last
 * `handler.close()` or with `mesh.close()`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalidArgument } from '../core/mesh-errors.ts';
import { meshIdOf } from '../telemetry/mesh-id.ts';
import { onMeshClosed } from '../telemetry/telemetry-stack.ts';
import { AdminAuth } from './admin-auth.ts';
import { CallStats } from './call-stats.ts';
import { configDump } from './config-dump.ts';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboard-page.ts';
import { type EventSource, EventLog } from './event-log.ts';
import { type AdminSource, stateView } from './state-view.ts';

export interface AdminOptions {
  /** When set, every client (loopback included) must send it: `Authorization: Bearer <token>` or `?token=`. */
  token?: string;
}

export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  /** Stops collecting for this handler (the statistics go once the mesh's last handler is closed). */
  close(): void;
}

export interface AdminMeshSource extends AdminSource {
  readonly on: EventSource;
  /** True once the mesh has closed: its statistics can go. */
  closed(): boolean;
}

interface Collector {
  readonly stats: CallStats;
  readonly log: EventLog;
  handlers: number;
  /** Takes back the hook that closes it with the mesh. */
  unhook: () => void;
}

const collectors = new WeakMap<object, Collector>();

const COMMON_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // The JSON and text answers load nothing; the dashboard gets its own policy (dashboard-page.ts).
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
};

export function createAdminHandler(mesh: object, source: AdminMeshSource, options: AdminOptions = {}): AdminHandler {
  if (typeof options !== 'object' || options === null) throw invalidArgument('mesh.adminHandler(options)', 'options must be an object, e.g. { token }');
  const { token } = options;
  if (token !== undefined && (typeof token !== 'string' || token.length < 8 || token.length > 4096 || /\s/.test(token))) {
    throw invalidArgument('mesh.adminHandler({ token })', 'token must be a string of 8 to 4096 characters without spaces');
  }
  const auth = new AdminAuth(token);
  const shared = collectorOf(mesh, source);
  shared.handlers++;
  let open = true;
  const release = (): void => {
    if (!open) return;
    open = false;
    if (--shared.handlers === 0) closeCollector(mesh, shared);
  };

  /** What to answer `req`: status, type, body and the headers particular to it. */
  const answer = (req: IncomingMessage): Answer => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://admin.invalid');
    } catch {
      return text(400, 'Bad request: the URL could not be parsed.');
    }
    const verdict = auth.check(req, url.searchParams);
    if (!verdict.allowed) {
      return text(verdict.status, verdict.message, verdict.status === 401 ? { 'www-authenticate': 'Bearer realm="meshlet admin"' } : {});
    }
    const page = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
    if (page !== '' && page !== 'index.html' && page !== 'state.json' && page !== 'config.json') {
      return text(404, 'Not found: the meshlet admin page serves ./ (the dashboard), ./state.json and ./config.json.');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return text(405, `Method ${String(req.method).slice(0, 16)} not allowed: the admin page is read-only (GET, HEAD).`, { allow: 'GET, HEAD' });
    }
    try {
      if (page === 'state.json') {
        return json(stateView(source, shared.stats, shared.log));
      }
      if (page === 'config.json') return json(configDump(source, shared.log));
      return { status: 200, type: 'text/html; charset=utf-8', body: DASHBOARD_HTML, headers: { 'content-security-policy': DASHBOARD_CSP } };
    } catch {
      // NOTE: no message or stack: either could quote what the page must not show.
      return text(500, 'The meshlet admin page failed to build its answer; see the server logs.');
    }
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => send(req, res, answer(req));
  return Object.assign(handler, { close: release });
}

/** The mesh's collector, made with its first handler (or again after the last one closed). */
function collectorOf(mesh: object, source: AdminMeshSource): Collector {
  let collector = collectors.get(mesh);
  if (collector === undefined) {
    const made: Collector = {
      // A closed mesh's statistics go with the first message after it closed (call-stats.ts).
      // Only this mesh's calls: the channels carry every mesh's in the process (0: a stand-in no mesh registered, whose messages all count).
      stats: new CallStats({ mesh: meshIdOf(mesh) || undefined, expired: () => source.closed(), onExpired: () => closeCollector(mesh, made) }),
      log: new EventLog(source.on),
      handlers: 0,
      unhook: () => {},
    };
    collector = made;
    collectors.set(mesh, collector);
    // Regression: the channels are process-wide, so a subscription left after mesh.close() made
    // every other mesh's calls pay for building their messages (and kept this one's memory).
    if (source.closed()) closeCollector(mesh, made);
    else made.unhook = onMeshClosed(mesh, () => closeCollector(mesh, made));
  }
  return collector;
}

function closeCollector(mesh: object, collector: Collector): void {
  collector.unhook();
  collector.stats.close();
  collector.log.close();
  if (collectors.get(mesh) === collector) collectors.delete(mesh);
}

interface Answer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

function text(status: number, message: string, headers: Record<string, string> = {}): Answer {
  return { status, type: 'text/plain; charset=utf-8', body: `${message}\n`, headers };
}

function json(value: unknown): Answer {
  return { status: 200, type: 'application/json; charset=utf-8', body: JSON.stringify(value), headers: {} };
}

function send(req: IncomingMessage, res: ServerResponse, answer: Answer): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = answer.status;
  for (const name in COMMON_HEADERS) res.setHeader(name, answer.headers[name] ?? COMMON_HEADERS[name]!);
  for (const name in answer.headers) res.setHeader(name, answer.headers[name]!);
  res.setHeader('content-type', answer.type);
  res.setHeader('content-length', Buffer.byteLength(answer.body));
  res.end(req.method === 'HEAD' ? undefined : answer.body);
}
