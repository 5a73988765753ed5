/**
 * Turns zod issues into meshlet ConfigIssues: one issue per problem, each with the dotted
 * path a config author can find in their file. Unions are unfolded to the branch the author
 * meant (an object given where "false or an object" is allowed is checked as the object),
 * and unknown keys get one issue each, at the key, with a "did you mean".
 */
import type { z } from 'zod';
import type { ConfigIssue } from '../core/errors.ts';
import { didYouMean } from './describe.ts';
import { KNOWN_KEYS_MARKER } from './fields.ts';
import { joinPath } from './plain-data.ts';

type Issue = z.core.$ZodIssue;

export function toConfigIssues(issues: readonly Issue[], root: unknown): ConfigIssue[] {
  const result: ConfigIssue[] = [];
  for (const issue of issues) collect(issue, [], root, result);
  return result;
}

function collect(issue: Issue, prefix: readonly PropertyKey[], root: unknown, out: ConfigIssue[]): void {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'invalid_union': {
      // NOTE: every union in the schema lists its object branch last.
      const branch = issue.errors[issue.errors.length - 1];
      if (isPlainObject(valueAt(root, path)) && branch !== undefined) {
        for (const inner of branch) collect(inner, path, root, out);
        return;
      }
      break;
    }
    case 'unrecognized_keys': {
      const known = issue.message.startsWith(KNOWN_KEYS_MARKER)
        ? (JSON.parse(issue.message.slice(KNOWN_KEYS_MARKER.length)) as string[])
        : [];
      const allowed = known.length > 0 ? `; allowed here: ${known.join(', ')}` : '';
      for (const key of issue.keys) out.push({ path: joinPath([...path, key]), message: `unknown key${didYouMean(key, known)}${allowed}` });
      return;
    }
    case 'invalid_key': {
      out.push({ path: joinPath(path), message: issue.issues[0]?.message ?? issue.message });
      return;
    }
  }
  out.push({ path: joinPath(path), message: issue.message });
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the (already plain, null-prototype) data at a path. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = Object.hasOwn(value, key) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return value;
}
