/** The adapter matrix (matrix.ts) against Nest on Express with real servers. */
import { nestFramework } from './frameworks.ts';
import { adapterMatrix } from './matrix.ts';

adapterMatrix(nestFramework('express'));
