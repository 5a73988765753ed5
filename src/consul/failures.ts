/**
 * Every MESH_CONSUL_FAILED message is built here, in one style: which agent, which request,
 * what Consul said, and what to do. NOTE: the ACL token is never part of a message: it
 * travels only in the X-Consul-Token header, and Consul's own bodies name a token by its
 * AccessorID, never its secret; `scrub` still removes the secret from any text meshlet
 * echoes, in case a proxy in between reflects headers.
 */
import { redactText, REDACTED } from '../core/redact.ts';
import { MeshError } from '../core/errors.ts';

/** What the messages need to know about the request that failed. */
export interface FailedRequest {
  /** The agent's URL without credentials. */
  readonly address: string;
  /** e.g. `GET /v1/kv/meshlet?recurse` (no index or wait: the message stays the same round after round). */
  readonly request: string;
  /** Whether an X-Consul-Token was sent (never which). */
  readonly tokenSent: boolean;
  /** Where this client's token comes from, for the ACL advice (e.g. `CONSUL_HTTP_TOKEN or the consul.token option`). */
  readonly tokenHint: string;
  readonly scrub: (text: string) => string;
}

/** A function removing `secret` (and anything credential-shaped) from text meshlet echoes. */
export function scrubber(secret: string | undefined): (text: string) => string {
  return (text) => {
    const redacted = redactText(text);
    return secret === undefined || secret === '' ? redacted : redacted.replaceAll(secret, REDACTED);
  };
}

export function statusFailure(failed: FailedRequest, status: number, body: string): MeshError {
  const said = body.trim() === '' ? '' : ` (${failed.scrub(body.trim())})`;
  const verb = status >= 500 ? 'failed' : 'refused';
  return new MeshError('MESH_CONSUL_FAILED', `Consul at ${failed.address} ${verb} ${failed.request} with ${status}${said}: ${advice(status, body, failed)}`, {
    status,
  });
}

export function unreachable(failed: FailedRequest, cause: unknown): MeshError {
  const reason = cause instanceof Error ? failed.scrub(cause.message) : 'no reason given';
  return new MeshError(
    'MESH_CONSUL_FAILED',
    `Consul at ${failed.address} could not be reached for ${failed.request} (${reason}): check that the agent runs there (the consul.url option, the control URL or CONSUL_HTTP_ADDR)`,
    { cause },
  );
}

export function timedOut(failed: FailedRequest, timeoutMs: number, blocking: boolean): MeshError {
  const why = blocking ? ' (a blocking query is held for its wait plus up to 1/16 of it, then answered)' : '';
  return new MeshError(
    'MESH_CONSUL_FAILED',
    `Consul at ${failed.address} did not answer ${failed.request} within ${timeoutMs} ms${why}, so meshlet cut the request: the agent or the network is stuck`,
  );
}

export function unreadable(failed: FailedRequest, what: string, cause: unknown): MeshError {
  return new MeshError(
    'MESH_CONSUL_FAILED',
    `Consul at ${failed.address} answered ${failed.request} with ${what} meshlet cannot read: is that address a Consul agent's HTTP API?`,
    { cause },
  );
}

function advice(status: number, body: string, failed: FailedRequest): string {
  if (status === 403) return aclAdvice(body, failed);
  if (status === 400) return 'Consul found the request malformed; this is a meshlet bug or a Consul version meshlet does not support, please report it';
  if (status === 404) return 'nothing of that name exists there; check the name (and the datacenter)';
  if (status === 413) return "the value is larger than the agent's limit (kv_max_value_size, 512 KB by default); make it smaller";
  if (status === 429) return "the agent is rate-limiting this client; meshlet's watches back off and retry, other callers should retry later";
  if (status >= 500) return "Consul failed internally; check the agent's log (a cluster without a leader answers 500 \"No cluster leader\")";
  return 'an answer meshlet does not expect from Consul; check that the address is a Consul agent';
}

function aclAdvice(body: string, { tokenSent, tokenHint }: FailedRequest): string {
  if (body.includes('ACL not found')) {
    return tokenSent ? `the ACL token is unknown; check ${tokenHint}` : `ACLs need a token and none was sent; set ${tokenHint}`;
  }
  if (body.includes('Permission denied')) {
    return tokenSent
      ? "the ACL token lacks the permission this request needs; grant it in the token's policy (key:read/write on the prefix, service:read/write, node:read) or use another token"
      : `no ACL token was sent and the anonymous token lacks this permission; set ${tokenHint}`;
  }
  return "the agent refuses this request (http_config.block_endpoints or allow_write_http_from in the agent's config, or an ACL)";
}
