/**
 * The agent endpoints meshlet's registration uses (SVCDOC, CHKDOC, AGENTGO): service
 * register/deregister, TTL updates, and the agent's own view of its services. Writes answer
 * 200 with an empty body, as Consul's handlers that return nil do.
 */
import { demand } from './acl.ts';
import type { Catalog, CheckStatus } from './catalog.ts';
import type { CheckRunner } from './check-runner.ts';
import type { Exchange, Reply, Route } from './exchange.ts';
import { checkFields } from './health-handlers.ts';
import { HttpError } from './http-error.ts';
import { field, parseRegistration } from './registration.ts';

const TTL_STATUS: Record<string, CheckStatus> = { pass: 'passing', warn: 'warning', fail: 'critical' };

export function agentRoutes(catalog: Catalog, checks: CheckRunner): Route[] {
  const routes: Route[] = [
    { path: '/v1/agent/service/register', prefix: false, methods: { PUT: (ex) => register(catalog, checks, ex) } },
    { path: '/v1/agent/service/deregister/', prefix: true, methods: { PUT: (ex) => deregister(catalog, checks, ex) } },
    { path: '/v1/agent/check/update/', prefix: true, methods: { PUT: (ex) => update(checks, ex) } },
    { path: '/v1/agent/services', prefix: false, methods: { GET: (ex) => services(catalog, ex) } },
    { path: '/v1/agent/checks', prefix: false, methods: { GET: (ex) => agentChecks(catalog, ex) } },
    { path: '/v1/status/leader', prefix: false, methods: { GET: () => ({ json: '127.0.0.1:8300' }) } },
  ];
  for (const [verb, status] of Object.entries(TTL_STATUS)) {
    routes.push({
      path: `/v1/agent/check/${verb}/`,
      prefix: true,
      methods: { PUT: (ex) => ttl(checks, ex, status, ex.params.get('note') ?? '') },
    });
  }
  return routes;
}

/** Registers (or replaces) a service and its checks through the same path the direct helper uses. */
export function applyRegistration(catalog: Catalog, checks: CheckRunner, body: unknown, replaceExistingChecks = false): void {
  const registration = parseRegistration(body, (checkId) => catalog.check(checkId));
  catalog.register(
    registration.service,
    registration.checks.map((c) => c.record),
    replaceExistingChecks,
  );
  checks.setService(
    registration.service.id,
    registration.checks.map((c) => c.spec),
    replaceExistingChecks,
  );
}

function register(catalog: Catalog, checks: CheckRunner, ex: Exchange): Reply {
  demand(ex.identity, 'write');
  let body: unknown;
  try {
    body = JSON.parse(ex.body.toString('utf8'));
  } catch (error) {
    throw new HttpError(400, `Request decode failed: ${(error as Error).message}`);
  }
  // Present with no value or `true` (SVCDOC); without it, checks the new definition leaves out stay.
  const replace = ex.params.get('replace-existing-checks');
  applyRegistration(catalog, checks, body, replace === '' || replace === 'true');
  return {};
}

function deregister(catalog: Catalog, checks: CheckRunner, ex: Exchange): Reply {
  demand(ex.identity, 'write');
  const id = ex.rest;
  if (catalog.service(id) === undefined) {
    throw new HttpError(404, `Unknown service ID ${JSON.stringify(id)}. Ensure that the service ID is passed, not the service name.`);
  }
  checks.removeService(id);
  catalog.deregister(id);
  return {};
}

function ttl(checks: CheckRunner, ex: Exchange, status: CheckStatus, output: string): Reply {
  demand(ex.identity, 'write');
  const checkId = ex.rest;
  const result = checks.updateTtl(checkId, status, output);
  if (result === 'unknown') {
    throw new HttpError(404, `Unknown check ID ${JSON.stringify(checkId)}. Ensure that the check ID is passed, not the check name.`);
  }
  if (result === 'not-ttl') throw new HttpError(500, `CheckID ${JSON.stringify(checkId)} does not have associated TTL`);
  return {};
}

/** `/v1/agent/check/update/:id` with `{Status, Output}`. */
function update(checks: CheckRunner, ex: Exchange): Reply {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(ex.body.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new HttpError(400, `Request decode failed: ${(error as Error).message}`);
  }
  const status = String(field(body, 'Status') ?? '');
  if (!['passing', 'warning', 'critical'].includes(status)) throw new HttpError(400, `Invalid check status: "${status}"`);
  return ttl(checks, ex, status as CheckStatus, String(field(body, 'Output') ?? ''));
}

function services(catalog: Catalog, ex: Exchange): Reply {
  demand(ex.identity, 'read');
  const out: Record<string, unknown> = {};
  for (const { service: s } of catalog.allInstances()) {
    if (s.id === 'consul') continue; // the agent's own view lists what was registered with it
    out[s.id] = {
      ID: s.id,
      Service: s.name,
      Tags: [...s.tags],
      Meta: s.meta ?? {},
      Port: s.port,
      Address: s.address,
      Weights: s.weights,
      EnableTagOverride: s.enableTagOverride,
      Datacenter: catalog.datacenter,
    };
  }
  return { json: out };
}

/** The agent's own checks (its services'; the node's serfHealth lives on the servers, not in the agent). */
function agentChecks(catalog: Catalog, ex: Exchange): Reply {
  demand(ex.identity, 'read');
  const out: Record<string, unknown> = {};
  for (const { service, checks } of catalog.allInstances()) {
    for (const c of checks) {
      out[c.checkId] = checkFields(c, service.tags);
    }
  }
  return { json: out };
}
