/**
 * A config file as the commands read it: the format from its extension, as `control:
 * 'file:…'` reads it, and parsed by the same parser (src/config/parse.ts, with its size and
 * YAML alias limits), so a file the CLI accepts is read the same way by a mesh.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { formatOfPath, parseConfigText } from '../config/parse.ts';
import { CliFailure, EXIT } from './io.ts';

/** The parsed document (not yet validated); parse errors are MESH_CONFIG_INVALID with their line. */
export async function readConfigFile(file: string, cwd: string): Promise<unknown> {
  const format = formatOfPath(file);
  if (format === undefined) throw new CliFailure(EXIT.usage, `${file}: the file name must end in .json, .yaml or .yml so its format is known`);
  let text: string;
  try {
    text = await readFile(resolve(cwd, file), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'an error';
    throw new CliFailure(EXIT.usage, `${file}: cannot be read (${code === 'ENOENT' ? 'no such file' : code})`);
  }
  return parseConfigText(text, format, file);
}
