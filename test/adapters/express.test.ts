/** The adapter matrix (matrix.ts) against Express with real servers. */
import { expressFramework } from './frameworks.ts';
import { adapterMatrix } from './matrix.ts';

adapterMatrix(expressFramework);
