/**
 * The one definition of how a MeshConfig is laid out in Consul KV, shared by the control
 * store (reading) and the `meshlet` CLI (writing), so a push lands where every mesh reads:
 *
 *   <prefix>/defaults          the `defaults` policy
 *   <prefix>/services/<name>   the policy of service <name>
 *
 * Each value is one JSON or YAML text. NOTE: the format is told apart by the text itself,
 * since Consul stores bytes and `consul kv put` sets no flag: a value whose first non-blank
 * character is `{` is JSON (parsed strictly, so a broken JSON push is reported as JSON, not
 * misread as a YAML flow mapping); anything else is YAML 1.2. Both go through the parser
 * files use (src/config/parse.ts), with its size and alias limits.
 *
 * A key under the prefix that is not part of the layout is an error naming it: unknown keys
 * are errors (DESIGN §3), and a typo such as `<prefix>/service/payments` must not be ignored.
 * Folder keys (a trailing `/` and no value, as Consul's UI creates them) are not config.
 */
import { type ConfigIssue, MeshError } from '../core/errors.ts';
import { configInvalid } from '../config/config-error.ts';
import { type ConfigFormat, parseConfigTextOffThread } from '../config/parse.ts';

/** What the layout reads of a KV entry (a src/consul KvEntry has these). */
export interface LayoutEntry {
  readonly key: string;
  readonly value: Buffer | string | null;
}

export interface LayoutDocument {
  /** `{ defaults?, services? }`, parsed, not yet validated. */
  readonly document: Record<string, unknown>;
  /**
   * Where a document path lives in KV: `services.payments.retry.attempts` →
   * `meshlet/services/payments: retry.attempts`; used to name the key in rejections.
   */
  readonly keyOf: (path: string) => string;
}

const DEFAULTS = 'defaults';
const SERVICES = 'services';

/** `/meshlet/` → `meshlet`: Consul keys carry no leading slash, and the layout adds its own. */
export function normalizePrefix(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, '');
}

/** The key holding the defaults policy. */
export function defaultsKey(prefix: string): string {
  return `${normalizePrefix(prefix)}/${DEFAULTS}`;
}

/** The key holding one service's policy. */
export function serviceKey(prefix: string, service: string): string {
  return `${normalizePrefix(prefix)}/${SERVICES}/${service}`;
}

/**
 * What to list: the prefix with its slash, so `meshlet` does not also read `meshlet-old/…`
 * (Consul's recurse matches by string prefix).
 */
export function listPrefix(prefix: string): string {
  return `${normalizePrefix(prefix)}/`;
}

/** The format the layout reads a value in (see the module comment). */
export function formatOfValue(text: string): ConfigFormat {
  return text.trimStart().startsWith('{') ? 'json' : 'yaml';
}

/**
 * The KV entries under the prefix as one document. Throws MESH_CONFIG_INVALID listing every
 * key that is unknown or does not parse, each issue's path being the key.
 */
export async function documentFromEntries(prefix: string, entries: readonly LayoutEntry[]): Promise<LayoutDocument> {
  const root = listPrefix(prefix);
  const issues: ConfigIssue[] = [];
  let defaults: unknown;
  const services: Record<string, unknown> = Object.create(null);
  // Sorted: the issues, and the order of services, do not depend on Consul's answer order.
  for (const entry of [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
    if (!entry.key.startsWith(root)) continue; // the prefix key itself, or a caller's wider listing
    const rest = entry.key.slice(root.length);
    const text = entry.value === null ? '' : entry.value.toString();
    if (rest === '' || (rest.endsWith('/') && text === '')) continue; // folders
    const place = placeOf(rest);
    if (place === undefined) {
      issues.push({
        path: entry.key,
        message: `is not part of meshlet's KV layout; the keys under ${root} are ${root}${DEFAULTS} and ${root}${SERVICES}/<service name>: delete or rename it`,
      });
      continue;
    }
    if (text.trim() === '') {
      issues.push({ path: entry.key, message: 'is empty; give it a JSON or YAML policy ({} for none) or delete the key' });
      continue;
    }
    let value: unknown;
    try {
      value = await parseConfigTextOffThread(text, formatOfValue(text), entry.key);
    } catch (error) {
      issues.push(...parseIssues(entry.key, error));
      continue;
    }
    if (place === DEFAULTS) defaults = value;
    else services[place.service] = value;
  }
  if (issues.length > 0) throw configInvalid(issues, CONFIG_IN_KV);
  const document: Record<string, unknown> = {};
  if (defaults !== undefined) document.defaults = defaults;
  if (Object.keys(services).length > 0) document.services = services;
  return { document, keyOf: keyLocator(prefix, Object.keys(services)) };
}

/**
 * A document as the KV entries that hold it (JSON texts), for a push. Throws
 * MESH_CONFIG_INVALID for a top-level key the layout has no place for.
 */
export function entriesFromDocument(prefix: string, document: unknown): Map<string, string> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw configInvalid([{ path: '', message: 'expected an object with "defaults" and/or "services"' }]);
  }
  const entries = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const [name, value] of Object.entries(document)) {
    if (name === DEFAULTS) {
      if (value !== undefined) entries.set(defaultsKey(prefix), toText(value));
    } else if (name === SERVICES) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        issues.push({ path: SERVICES, message: 'expected an object keyed by service name' });
        continue;
      }
      for (const [service, policy] of Object.entries(value)) {
        if (service.includes('/')) issues.push({ path: `${SERVICES}.${service}`, message: 'a service name cannot hold "/" (it is part of a Consul key)' });
        else entries.set(serviceKey(prefix, service), toText(policy));
      }
    } else {
      issues.push({ path: name, message: `has no place in Consul KV; the layout holds only "${DEFAULTS}" and "${SERVICES}"` });
    }
  }
  if (issues.length > 0) throw configInvalid(issues);
  return entries;
}

/** How every rejection of what KV holds begins, unparsable keys and invalid policies alike (each issue names its key). */
const CONFIG_IN_KV = 'The config in Consul KV';

/**
 * The issues of a document validated as a whole, each path rewritten to name the key it
 * came from (the MeshError keeps its code, message style and cause).
 */
export function locateIssues(error: MeshError, keyOf: (path: string) => string): MeshError {
  if (error.issues === undefined) return error;
  const issues = error.issues.map((issue) => ({ path: keyOf(issue.path), message: issue.message }));
  const located = configInvalid(issues, CONFIG_IN_KV);
  return new MeshError(error.code, located.message, { cause: error.cause, issues: located.issues ?? issues });
}

type Place = typeof DEFAULTS | { readonly service: string };

function placeOf(rest: string): Place | undefined {
  if (rest === DEFAULTS) return DEFAULTS;
  const service = rest.startsWith(`${SERVICES}/`) ? rest.slice(SERVICES.length + 1) : undefined;
  // A name with a slash is a deeper key (`services/payments/extra`), not a service.
  if (service === undefined || service === '' || service.includes('/')) return undefined;
  return { service };
}

function keyLocator(prefix: string, serviceNames: readonly string[]): (path: string) => string {
  const base = normalizePrefix(prefix);
  // Longest first: service names may hold dots (`pay.v2`), as paths do.
  const names = [...serviceNames].sort((a, b) => b.length - a.length);
  return (path) => {
    if (path === DEFAULTS || path.startsWith(`${DEFAULTS}.`)) return within(`${base}/${DEFAULTS}`, path.slice(DEFAULTS.length + 1));
    if (path.startsWith(`${SERVICES}.`)) {
      const rest = path.slice(SERVICES.length + 1);
      const name = names.find((candidate) => rest === candidate || rest.startsWith(`${candidate}.`));
      if (name !== undefined) return within(`${base}/${SERVICES}/${name}`, rest.slice(name.length + 1));
    }
    if (path === SERVICES) return `${base}/${SERVICES}/`;
    return path === '' ? `${base}/` : `${base}/: ${path}`;
  };
}

function within(key: string, inner: string): string {
  return inner === '' ? key : `${key}: ${inner}`;
}

function parseIssues(key: string, error: unknown): ConfigIssue[] {
  const issues = (error as MeshError | undefined)?.issues;
  if (issues === undefined || issues.length === 0) return [{ path: key, message: error instanceof Error ? error.message : String(error) }];
  return issues.map((issue) => ({ path: key, message: stripSource(issue.message, key) }));
}

/** parse.ts starts its messages with the source (the key): the path says it already. */
function stripSource(message: string, key: string): string {
  return message.startsWith(`${key} `) ? message.slice(key.length + 1) : message;
}

function toText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
