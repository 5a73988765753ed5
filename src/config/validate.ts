/**
 * The one entry point that turns untrusted input into a MeshConfig. It never throws anything
 * but a MeshError (MESH_CONFIG_INVALID) whose `issues` list every problem found, so one
 * reload shows an operator everything to fix instead of one typo at a time.
 */
import type { ConfigIssue } from '../core/errors.ts';
import { configInvalid } from './config-error.ts';
import { toConfigIssues } from './issues.ts';
import { toPlainData } from './plain-data.ts';
import { type MeshConfig, meshConfigSchema } from './schema.ts';

export function validateMeshConfig(document: unknown): MeshConfig {
  let issues: ConfigIssue[];
  try {
    const plain = toPlainData(document);
    if (plain.data === undefined && plain.issues.length === 0) {
      issues = [{ path: '', message: 'expected a config object like {"services": {...}}, got nothing' }];
    } else {
      const parsed = meshConfigSchema.safeParse(plain.data);
      if (parsed.success && plain.issues.length === 0) return parsed.data;
      const schemaIssues = parsed.success ? [] : toConfigIssues(parsed.error.issues, plain.data);
      issues = [...plain.issues, ...schemaIssues.filter((issue) => !isUnder(issue.path, plain.omittedPaths))];
    }
  } catch (error) {
    // NOTE: defensive: no input should get here, but a bug must not escape as a TypeError.
    issues = [{ path: '', message: `could not be validated (${error instanceof Error ? error.name : 'unknown error'})` }];
  }
  throw configInvalid(issues);
}

function isUnder(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => prefix === '' || path === prefix || path.startsWith(`${prefix}.`));
}
