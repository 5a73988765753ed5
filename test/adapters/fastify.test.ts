/** The adapter matrix (matrix.ts) against Fastify with real servers. */
import { fastifyFramework } from './frameworks.ts';
import { adapterMatrix } from './matrix.ts';

adapterMatrix(fastifyFramework);
