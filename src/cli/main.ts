#!/usr/bin/env node
/**
 * The `meshlet` command (package.json `bin`): see run.ts, or `meshlet --help`.
 * From the repository: `node src/cli/main.ts validate mesh.yaml`.
 */
import { run } from './run.ts';

process.exitCode = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
