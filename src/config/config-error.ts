/**
 * The one MESH_CONFIG_INVALID error shape, shared by parsing, validation and resolution: the
 * full list of issues (bounded) in `issues`, the first few in the message so a log line alone
 * shows what to fix.
 */
import { type ConfigIssue, MeshError } from '../core/errors.ts';
import { MAX_REPORTED_ISSUES } from './limits.ts';

/** The MESH_CONFIG_INVALID error for a list of issues (also used by resolve and parse). */
export function configInvalid(issues: readonly ConfigIssue[], what = 'The mesh config'): MeshError {
  const reported = issues.slice(0, MAX_REPORTED_ISSUES);
  if (issues.length > reported.length) {
    reported.push({ path: '', message: `and ${issues.length - reported.length} more problems not listed` });
  }
  const shown = reported
    .slice(0, 5)
    .map((issue) => `${issue.path === '' ? '(root)' : issue.path}: ${issue.message}`)
    .join('; ');
  const more = reported.length > 5 ? `; and ${reported.length - 5} more (see error.issues)` : '';
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return new MeshError('MESH_CONFIG_INVALID', `${what} is invalid (${count}); fix it and load it again: ${shown}${more}`, {
    issues: reported,
  });
}


// A config source that cannot be used at all, before any issue could be listed. Each says
// what failed and what to do, and that the config in force stays (the mesh keeps serving).

/** The source is missing or unreadable (`reason`: "does not exist", "cannot be read (EACCES)"). */
export function configUnreadable(source: string, reason: string, cause: unknown): MeshError {
  return new MeshError('MESH_CONFIG_INVALID', `${source} ${reason}; restore the file or let meshlet read it (the last good config stays in force until it can be read)`, {
    cause,
  });
}

/** The source's text is over the size bound. */
export function configTooLarge(source: string, maxCharacters: number): MeshError {
  return new MeshError(
    'MESH_CONFIG_INVALID',
    `${source} is larger than ${maxCharacters} characters; split it into smaller documents or trim it (the last good config stays in force)`,
  );
}

/** The source's text is neither JSON nor YAML meshlet can read. */
export function configUnparsable(source: string, cause: unknown): MeshError {
  return new MeshError('MESH_CONFIG_INVALID', `${source} could not be parsed; fix its JSON or YAML syntax (the last good config stays in force)`, { cause });
}
