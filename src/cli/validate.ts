/**
 * `meshlet validate <file>`: the check a mesh runs on a config (check-config.ts), offline.
 * Every problem is printed with its path, and the exit code is non-zero, so CI can gate a
 * config change on it before anyone pushes it.
 */
import { isMeshError } from '../core/errors.ts';
import { checkConfig } from './check-config.ts';
import { readConfigFile } from './config-file.ts';
import { type CliIo, EXIT, type ExitCode } from './io.ts';
import { formatIssues } from './issues.ts';

export async function validate(file: string, io: CliIo): Promise<ExitCode> {
  let checked: ReturnType<typeof checkConfig>;
  try {
    checked = checkConfig(await readConfigFile(file, io.cwd ?? process.cwd()));
  } catch (error) {
    if (!isMeshError(error)) throw error;
    io.stderr.write(formatIssues(`${file} is invalid`, error));
    return EXIT.invalid;
  }
  const services = checked.services.length === 1 ? '1 service' : `${checked.services.length} services`;
  io.stdout.write(`${file} is valid (${services}${checked.services.length > 0 ? `: ${checked.services.join(', ')}` : ''})\n`);
  if (checked.tlsFiles.length > 0) {
    io.stdout.write(`note: TLS files are read by each mesh on its own host, not checked here: ${checked.tlsFiles.join(', ')}\n`);
  }
  return EXIT.ok;
}
