/**
 * Validation of a control document in slices, for the apply path. The one large part of a
 * config is its endpoint lists (up to MAX_ENDPOINTS_TOTAL): validating ten thousand of them
 * at once holds the event loop for about 40 ms on a process's first large config, before the
 * JIT has warmed up. So the document is validated at once with every list left empty, then
 * each service's list on a turn of the event loop of its own. The result, and every issue
 * reported, are those of validateMeshConfig, which it hands over to whenever the document
 * is invalid before its lists are reached.
 */
import { setImmediate } from 'node:timers/promises';
import type { ConfigIssue } from '../core/errors.ts';
import { configInvalid } from './config-error.ts';
import { documentEndpointCounts, endpointCountIssues } from './endpoint-limits.ts';
import { toConfigIssues } from './issues.ts';
import { toPlainData } from './plain-data.ts';
import { endpoints as endpointList, type MeshConfig } from './schema.ts';
import { validateMeshConfig } from './validate.ts';

type PlainObject = Record<string, unknown>;

export async function validateMeshConfigInSlices(document: unknown, nextTurn: () => Promise<unknown> = () => setImmediate()): Promise<MeshConfig> {
  const plain = toPlainData(document);
  const services = isPlainObject(plain.data) ? plain.data.services : undefined;
  // Copy problems, no services, or too many endpoints: validation at once is as cheap.
  if (plain.issues.length > 0 || !isPlainObject(services) || endpointCountIssues(documentEndpointCounts(services)).length > 0) {
    return validateMeshConfig(plain.data);
  }
  const lists = new Map<string, unknown[]>();
  const withoutLists: PlainObject = Object.create(null);
  for (const [name, entry] of Object.entries(services)) {
    const list = isPlainObject(entry) ? entry.endpoints : undefined;
    if (!Array.isArray(list) || list.length === 0) {
      withoutLists[name] = entry;
      continue;
    }
    lists.set(name, list);
    withoutLists[name] = Object.assign(Object.create(null), entry, { endpoints: [] });
  }
  let config: MeshConfig;
  try {
    config = validateMeshConfig(Object.assign(Object.create(null), plain.data, { services: withoutLists }));
  } catch {
    // Invalid already: one pass over the whole document reports every issue, lists included.
    return validateMeshConfig(plain.data);
  }
  const issues: ConfigIssue[] = [];
  for (const [name, list] of lists) {
    await nextTurn();
    const parsed = endpointList.safeParse(list);
    if (parsed.success) {
      config.services![name]!.endpoints = parsed.data;
      continue;
    }
    const located = parsed.error.issues.map((issue) => ({ ...issue, path: ['services', name, 'endpoints', ...issue.path] }));
    issues.push(...toConfigIssues(located, plain.data));
  }
  if (issues.length > 0) throw configInvalid(issues);
  return config;
}

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
