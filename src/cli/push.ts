/**
 * `meshlet push <file> --to consul://host:port/prefix [--service name] [--prune] [--dry-run]`:
 * how operators change the fleet. In order, and nothing is written unless every step passes:
 *
 * 1. the file is checked as a mesh checks a config (a file `validate` refuses is refused);
 * 2. the keys under the prefix are read, with the ModifyIndex of each;
 * 3. the RESULT (what KV will hold after the push, assembled as every mesh assembles it) is
 *    checked too: a valid file can still make an invalid fleet config with what is already
 *    there (a stray key, a service entry that needs the defaults it replaces);
 * 4. the per-key diff is shown; `--dry-run` stops here;
 * 5. each changed key is written with `cas` = the ModifyIndex read in 2 (0 for a new key:
 *    "only if still absent"), so two operators pushing at once cannot overwrite each other:
 *    the second one's write fails, and push stops, naming the key and saying to re-run.
 *
 * Keys in KV that the file does not hold are kept, and listed; `--prune` deletes them (with
 * cas too). `--service name` pushes only that service's entry from the file.
 *
 * NOTE: keys are written one by one (the Consul client has no transaction API yet), so a
 * watching mesh may see a snapshot with some keys written and not others; each snapshot is
 * still validated as a whole, and a refused one leaves the previous config in force.
 */
import { isDeepStrictEqual } from 'node:util';
import { parseConfigText } from '../config/parse.ts';
import type { KvEntry } from '../consul/client.ts';
import { documentFromEntries, entriesFromDocument, formatOfValue, serviceKey } from '../control/consul-layout.ts';
import { isMeshError } from '../core/errors.ts';
import { redactConfigLine, redactedCredentialPath } from '../core/redact.ts';
import { checkConfig } from './check-config.ts';
import { readConfigFile } from './config-file.ts';
import { consulTarget } from './consul-target.ts';
import { CliFailure, type CliIo, EXIT, type ExitCode } from './io.ts';
import { formatIssues } from './issues.ts';
import { assemble, consulFailure, readKv } from './kv-config.ts';
import { foldUnchanged, lineDiff } from './line-diff.ts';

export interface PushOptions {
  readonly file: string;
  readonly to: string | undefined;
  readonly service?: string | undefined;
  readonly dryRun?: boolean;
  readonly prune?: boolean;
  readonly tokenFile?: string | undefined;
}

/** For tests: `afterRead` runs after KV was read and the plan made, before the first write (a deterministic race). */
export interface PushHooks {
  readonly afterRead?: () => Promise<void>;
}

/** One key's change; `before` is what was read (its ModifyIndex is the cas). */
interface Change {
  readonly key: string;
  readonly kind: 'new' | 'changed' | 'unchanged' | 'delete' | 'kept';
  readonly before: KvEntry | undefined;
  readonly text: string | undefined;
}

export async function push(options: PushOptions, io: CliIo, hooks: PushHooks = {}): Promise<ExitCode> {
  if (options.prune === true && options.service !== undefined) {
    throw new CliFailure(EXIT.usage, '--prune deletes the keys the file lacks, but --service pushes one key: give one or the other');
  }
  const document = await readConfigFile(options.file, io.cwd ?? process.cwd());
  const redacted = redactedCredentialPath(document);
  if (redacted !== undefined) {
    throw new CliFailure(
      EXIT.invalid,
      `${options.file}: ${redacted} holds *** where a credential goes (a document printed by meshlet get), so nothing was pushed; put the credential back, or print the document with meshlet get --show-secrets`,
    );
  }
  try {
    checkConfig(document);
  } catch (error) {
    if (!isMeshError(error)) throw error;
    io.stderr.write(formatIssues(`${options.file} is invalid, so nothing was pushed`, error));
    return EXIT.invalid;
  }
  const target = await consulTarget(options.to, options.tokenFile, io);
  try {
    const wanted = wantedEntries(target.prefix, document, options);
    const { entries: current, defaultAclPolicy } = await readKv(target);
    const changes = await plan(target.prefix, wanted, current, options);
    const result = resultEntries(current, changes);
    try {
      await assemble(target.prefix, result);
    } catch (error) {
      if (!isMeshError(error)) throw error;
      io.stderr.write(formatIssues(`After this push the config in ${target.shown} would be invalid, so nothing was pushed`, error));
      return EXIT.invalid;
    }
    if (current.length === 0 && defaultAclPolicy === 'deny' && !target.tokenGiven) {
      // NOTE: Consul filters what an anonymous read may not see, so "empty" may be "hidden":
      // the diff below would say "new" for keys that exist, and the writes would get a 403.
      io.stderr.write(
        `warning: Consul at ${target.shown} denies by default (X-Consul-Default-ACL-Policy: deny) and no ACL token was given: the prefix reads as empty, which may be ACL filtering, and the writes will likely be refused (403); give --token-file or set CONSUL_HTTP_TOKEN\n`,
      );
    }
    io.stdout.write(`${options.dryRun ? 'dry run: ' : ''}${options.file} → ${target.shown}\n`);
    for (const change of changes) io.stdout.write(describeChange(change));
    const writes = changes.filter((change) => change.kind === 'new' || change.kind === 'changed' || change.kind === 'delete');
    if (writes.length === 0) {
      io.stdout.write('nothing to write: KV already holds this config\n');
      return EXIT.ok;
    }
    if (options.dryRun) {
      io.stdout.write(`dry run: ${count(writes.length)} would be written; nothing was written\n`);
      return EXIT.ok;
    }
    await hooks.afterRead?.();
    const written: string[] = [];
    for (const change of writes) {
      // NOTE: the cas is the ModifyIndex read above (0: the key must still be absent).
      const cas = change.before?.modifyIndex ?? 0n;
      // What KV holds now if this write goes no further (keys are written one by one).
      const done = written.length === 0 ? 'nothing was written' : `${count(written.length)} written before it (${written.join(', ')}), nothing after`;
      let applied: boolean;
      try {
        applied = change.kind === 'delete' ? await target.client.kvDelete(change.key, { cas }) : await target.client.kvPut(change.key, change.text!, { cas });
      } catch (error) {
        const failure = consulFailure(error);
        // NOTE: a write that timed out may still have been applied; the operator must know which keys were.
        throw failure instanceof CliFailure ? new CliFailure(failure.exit, `${failure.message}; ${done}`) : failure;
      }
      if (!applied) {
        throw new CliFailure(
          EXIT.conflict,
          `${change.key} changed in Consul after this push read it (someone else pushed meanwhile), so it was not overwritten; ${done}. Re-run meshlet push to see the diff against what is there now`,
        );
      }
      written.push(change.key);
    }
    io.stdout.write(`wrote ${count(written.length)} with cas; meshes watching ${target.shown} apply the change\n`);
    return EXIT.ok;
  } finally {
    await target.client.close();
  }
}

/** The keys the file makes (all, or the one of `--service`), as JSON texts. */
function wantedEntries(prefix: string, document: unknown, options: PushOptions): Map<string, string> {
  const all = entriesFromDocument(prefix, document);
  if (options.service === undefined) return all;
  const key = serviceKey(prefix, options.service);
  const text = all.get(key);
  if (text === undefined) throw new CliFailure(EXIT.usage, `--service ${options.service}: ${options.file} has no services.${options.service} to push`);
  return new Map([[key, text]]);
}

async function plan(prefix: string, wanted: ReadonlyMap<string, string>, current: readonly KvEntry[], options: PushOptions): Promise<Change[]> {
  const byKey = new Map(current.map((entry) => [entry.key, entry]));
  const changes: Change[] = [];
  for (const [key, text] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const before = byKey.get(key);
    const kind = before === undefined ? 'new' : sameConfig(before, text) ? 'unchanged' : 'changed';
    changes.push({ key, kind, before, text });
  }
  if (options.service === undefined) {
    // Only keys of the layout: a stray key is not the file's to delete (the result check names it).
    for (const entry of [...current].sort((a, b) => (a.key < b.key ? -1 : 1))) {
      if (wanted.has(entry.key) || !(await isLayoutKey(prefix, entry.key))) continue;
      changes.push({ key: entry.key, kind: options.prune ? 'delete' : 'kept', before: entry, text: undefined });
    }
  }
  return changes;
}

/** Whether the layout reads `key` as config (asked of the layout itself, so it is defined once). */
async function isLayoutKey(prefix: string, key: string): Promise<boolean> {
  try {
    const { document } = await documentFromEntries(prefix, [{ key, value: '{}' }]);
    return Object.keys(document).length > 0;
  } catch {
    return false;
  }
}

/** What KV will hold after the changes: the entries read, with the writes and deletes applied. */
function resultEntries(current: readonly KvEntry[], changes: readonly Change[]): { key: string; value: Buffer | string | null }[] {
  const result = new Map<string, Buffer | string | null>(current.map((entry) => [entry.key, entry.value]));
  for (const change of changes) {
    if (change.kind === 'delete') result.delete(change.key);
    else if (change.text !== undefined) result.set(change.key, change.text);
  }
  return [...result].map(([key, value]) => ({ key, value }));
}

/** Same config, whatever its text: a YAML value written by hand equals the JSON push of the same policy. */
function sameConfig(before: KvEntry, text: string): boolean {
  const old = parsed(before);
  return old !== undefined && isDeepStrictEqual(old.value, JSON.parse(text));
}

function parsed(entry: KvEntry): { value: unknown } | undefined {
  const text = entry.value?.toString('utf8') ?? '';
  try {
    return { value: parseConfigText(text, formatOfValue(text), entry.key) };
  } catch {
    return undefined;
  }
}

/** The old value as the diff shows it: in the JSON the push writes when it parses, so only real changes show. */
function shownBefore(entry: KvEntry): string {
  const old = parsed(entry);
  return old === undefined ? (entry.value?.toString('utf8') ?? '') : `${JSON.stringify(old.value, null, 2)}\n`;
}

function describeChange(change: Change): string {
  switch (change.kind) {
    case 'unchanged':
      return `= ${change.key} (unchanged)\n`;
    case 'kept':
      return `  ${change.key} (in KV, not in the file: kept; --prune deletes it)\n`;
    case 'delete':
      return `- ${change.key} (deleted: not in the file)\n${indent(lineDiff(shownBefore(change.before!), ''))}`;
    case 'new':
      return `+ ${change.key} (new)\n${indent(lineDiff('', change.text!))}`;
    case 'changed':
      return `~ ${change.key} (changed)\n${indent(lineDiff(shownBefore(change.before!), change.text!))}`;
  }
}

/** Diff lines with credentials shown as `***` as `meshlet get` shows them: the diff goes to terminals and CI logs. */
function indent(lines: readonly string[]): string {
  // A diff line is a two-character mark ('+ ', '- ', '  ') and a line of the document, or a fold ('…').
  return foldUnchanged(lines)
    .map((line) => `    ${line.length < 2 ? line : line.slice(0, 2) + redactConfigLine(line.slice(2))}\n`)
    .join('');
}

function count(keys: number): string {
  return keys === 1 ? '1 key' : `${keys} keys`;
}
