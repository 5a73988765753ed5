/**
 * The worker thread side of parseConfigTextOffThread (parse.ts): parses one config text and
 * posts back the document, or the MESH_CONFIG_INVALID error as plain data (an Error's class
 * does not cross threads).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isMeshError } from '../core/errors.ts';
import { type ParseReply, type ParseRequest, parseConfigText } from './parse.ts';

const { text, format, source } = workerData as ParseRequest;
let reply: ParseReply;
try {
  reply = { document: parseConfigText(text, format, source) };
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  reply = { error: { message, issues: isMeshError(error) ? [...(error.issues ?? [])] : [{ path: '', message }] } };
}
parentPort!.postMessage(reply);
