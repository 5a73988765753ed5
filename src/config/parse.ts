/**
 * Config text (a file, a Consul KV value) to a document, before validation. JSON and YAML
 * give the same document shape. Parse errors say where (line and column); YAML's alias
 * expansion is capped, in uses and in the values it adds, so a "billion laughs" document or
 * one list multiplied through aliases fails fast instead of eating memory.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import YAML from 'yaml';
import { type ConfigIssue, isMeshError, MeshError } from '../core/errors.ts';
import { MAX_CONFIG_TEXT_LENGTH, MAX_YAML_ALIAS_VALUES, MAX_YAML_ALIASES } from './limits.ts';
import { configInvalid } from './config-error.ts';
import { valuesAddedByAliases } from './yaml-aliases.ts';

export type ConfigFormat = 'json' | 'yaml';

/** YAML texts up to this length are parsed in place: a few ms, even in a fresh process. */
const MAX_INLINE_YAML_LENGTH = 8 * 1024;
/** Heap for the worker that parses one large YAML text: far above what a valid one needs. */
/** What the parse worker (parse-worker.ts) is given, and what it posts back. */
export interface ParseRequest {
  readonly text: string;
  readonly format: ConfigFormat;
  readonly source: string;
}

export type ParseReply =
  | { readonly document: unknown }
  | { readonly error: { readonly message: string; readonly issues: readonly { path: string; message: string }[] } };

const PARSE_WORKER_HEAP_MB = 256;
/** The worker module sits beside this one, with the same extension (.ts in source, .js built). */
const PARSE_WORKER = new URL(`./parse-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);

const ALIAS_LIMITS = `YAML aliases are limited to ${MAX_YAML_ALIASES} uses and ${MAX_YAML_ALIAS_VALUES} added values in one document`;

/** The format a file name implies, or undefined when it implies none. */
export function formatOfPath(path: string): ConfigFormat | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return undefined;
}

export function parseConfigText(text: string, format: ConfigFormat, source = 'The config text'): unknown {
  if (text.length > MAX_CONFIG_TEXT_LENGTH) {
    throw invalid(source, '', `is ${text.length} characters long; the limit is ${MAX_CONFIG_TEXT_LENGTH}`);
  }
  return format === 'json' ? parseJson(text, source) : parseYaml(text, source);
}

/**
 * parseConfigText for a text read from a store, without holding the event loop: a YAML text
 * longer than MAX_INLINE_YAML_LENGTH is parsed on a worker thread of its own. The yaml
 * package parses about 1 to 2 MB a second, several times slower in a fresh process: a YAML
 * config at the endpoint limits (about 200 KB) would block the loop for 100 to 200 ms. JSON
 * parses fast enough (a 1 MB text in under 10 ms) to stay here. The worker is bounded in
 * memory, so a hostile document costs that thread, not the process.
 */
export async function parseConfigTextOffThread(text: string, format: ConfigFormat, source = 'The config text'): Promise<unknown> {
  if (format === 'json' || text.length <= MAX_INLINE_YAML_LENGTH || text.length > MAX_CONFIG_TEXT_LENGTH) {
    return parseConfigText(text, format, source);
  }
  const request: ParseRequest = { text, format, source };
  const worker = new Worker(PARSE_WORKER, { workerData: request, resourceLimits: { maxOldGenerationSizeMb: PARSE_WORKER_HEAP_MB } });
  try {
    const reply = await new Promise<ParseReply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(Object.assign(new Error(`the parser exited with code ${code}`), { code: `exit code ${code}` })));
    });
    if ('document' in reply) return reply.document;
    throw new MeshError('MESH_CONFIG_INVALID', reply.error.message, { issues: reply.error.issues });
  } catch (error) {
    if (isMeshError(error)) throw error;
    // The worker failed (out of memory, say) before it could answer.
    const code = (error as { code?: unknown } | null)?.code;
    throw invalid(source, '', `could not be parsed (${typeof code === 'string' ? code : 'the parser failed'}); the last good config stays in force`);
  } finally {
    void worker.terminate();
  }
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // V8's message quotes the input and rarely says where; YAML's parser (JSON is YAML)
    // locates the problem with a line and column without echoing the text.
    const located = YAML.parseDocument(text, { schema: 'json', prettyErrors: true }).errors[0];
    const where = located?.linePos?.[0] === undefined ? '' : ` at line ${located.linePos[0].line}, column ${located.linePos[0].col}`;
    const detail = located === undefined ? '' : `: ${withoutPosition(located.message)}`;
    throw invalid(source, '', `is not valid JSON${where}${detail}`);
  }
}

function parseYaml(text: string, source: string): unknown {
  const document = YAML.parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: true });
  const first = document.errors[0];
  if (first !== undefined) {
    const where = first.linePos?.[0] === undefined ? '' : ` at line ${first.linePos[0].line}, column ${first.linePos[0].col}`;
    const issues: ConfigIssue[] = document.errors.slice(0, 10).map((error) => ({
      path: '',
      message: `YAML error${error.linePos?.[0] ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : ''}: ${withoutPosition(error.message)}`,
    }));
    throw configInvalid(issues, `${source} is not valid YAML${where}, so it`);
  }
  try {
    const added = valuesAddedByAliases(document);
    if (added > MAX_YAML_ALIAS_VALUES) {
      throw invalid(source, '', `has YAML aliases that expand to ${added} more values; ${ALIAS_LIMITS}: write shared policy once under "defaults" instead of repeating it through aliases`);
    }
    return document.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (error) {
    if (isMeshError(error)) throw error;
    const detail = error instanceof Error ? firstLine(error.message) : String(error);
    throw invalid(source, '', `could not be expanded (${detail}); ${ALIAS_LIMITS}`);
  }
}

function invalid(source: string, path: string, message: string): MeshError {
  return configInvalid([{ path, message: `${source} ${message}` }], source);
}

function firstLine(message: string): string {
  const end = message.indexOf('\n');
  return (end === -1 ? message : message.slice(0, end)).slice(0, 200);
}

/** yaml's pretty message is "<what> at line L, column C:" plus a snippet; keep only <what>. */
function withoutPosition(message: string): string {
  return firstLine(message).replace(/ at line \d+, column \d+:?$/, '');
}
