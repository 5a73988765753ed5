/**
 * How meshlet refuses a bad call argument: one MESH_BAD_REQUEST shape for `client.request`,
 * `mesh.fetch` and `runWithInbound`, and one way to describe the value it refuses — short
 * values quoted so their author sees the typo, long ones by size, objects by their class
 * (`an object (Headers)`), so a refusal never dumps a caller's data into a log line.
 */
import { MeshError } from '../core/errors.ts';
import { closestMatch } from '../config/describe.ts';

export function badRequest(service: string, message: string): MeshError {
  return new MeshError('MESH_BAD_REQUEST', `call to '${service}' is invalid: ${message}`, { service });
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 64 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? `an object (${value.constructor?.name ?? 'null prototype'})` : String(value);
}

/**
 * The message for a key that is not one of `known`: names it, suggests the near miss
 * (`timeoutMs` → `timeout`), lists the valid keys. Unknown keys are refused, as in config,
 * because an ignored typo silently drops what its author asked for.
 */
export function unknownKeyMessage(what: string, key: string, known: readonly string[], hint = ''): string {
  const near = closestMatch(key, known);
  const suggestion = hint !== '' ? ` (${hint})` : near === undefined ? '' : ` (did you mean '${near}'?)`;
  return `unknown ${what} ${describe(key)}${suggestion}; valid ${what}s: ${known.join(', ')}`;
}
