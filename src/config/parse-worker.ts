/**
 * The worker thread side of parseConfigTextOffThread (parse.ts): parses one config text and
 * posts back the document, or the MESH_CONFIG_INVALID error as plain data (an Error's class
 * does not cross threads).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isMeshError } from '../core/errors.ts';
import { type ConfigFormat, parseConfigText } from './parse.ts';

export interface ParseRequest {
  readonly text: string;
  readonly format: ConfigFormat;
  readonly source: string;
}

export type ParseReply =
  | { readonly document: unknown }
  | { readonly error: { readonly message: string; readonly issues: readonly { path: string; message: string }[] } };

const { text, format, source } = workerData as ParseRequest;
let reply: ParseReply;
try {
  reply = { document: parseConfigText(text, format, source) };
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  reply = { error: { message, issues: isMeshError(error) ? [...(error.issues ?? [])] : [{ path: '', message }] } };
}
parentPort!.postMessage(reply);
