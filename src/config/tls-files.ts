/**
 * TLS material is configured as file paths and read once at resolve time, so a missing or
 * wrong file is a config issue with its path (reported before any call) rather than a TLS
 * handshake failure on the first request.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_TLS_FILE_BYTES } from './limits.ts';

/** PEM text, or an error message for the issue. */
export type PemReader = (file: string, baseDir: string) => string | { error: string };

export const readPemFile: PemReader = (file, baseDir) => {
  const path = resolve(baseDir, file);
  try {
    const stats = statSync(path);
    if (!stats.isFile()) return { error: `${path} is not a regular file` };
    if (stats.size > MAX_TLS_FILE_BYTES) return { error: `${path} is ${stats.size} bytes; a PEM file here is at most ${MAX_TLS_FILE_BYTES}` };
    const text = readFileSync(path, 'utf8');
    if (!text.includes('-----BEGIN ')) return { error: `${path} does not look like PEM (no "-----BEGIN" line)` };
    return text;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    return { error: `cannot read ${path} (${code}); check the path (relative paths start at ${baseDir})` };
  }
};
