/**
 * How a command prints a refused config: every issue on its own line, path first, so an
 * operator sees everything to fix at once (the MeshError's `issues`, not just its message).
 */
import { isMeshError } from '../core/errors.ts';
import { redactText } from '../core/redact.ts';

export function formatIssues(heading: string, error: unknown): string {
  if (!isMeshError(error) || error.issues === undefined || error.issues.length === 0) {
    return `${heading}:\n  ${redactText(error instanceof Error ? error.message : String(error))}\n`;
  }
  const count = error.issues.length === 1 ? '1 problem' : `${error.issues.length} problems`;
  const lines = error.issues.map((issue) => `  ${issue.path === '' ? '(root)' : issue.path}: ${redactText(issue.message)}`);
  return `${heading} (${count}):\n${lines.join('\n')}\n`;
}
