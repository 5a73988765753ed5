/**
 * What a retry may be triggered by, as a config author writes it: shared by a service's
 * `retry.on` and a route's (route-schema.ts), so both accept and report exactly the same.
 */
import { z } from 'zod';
import { describeValue } from './describe.ts';

export const retryCondition = z
  .custom<string | number>(
    (v) =>
      v === 'connect-error' ||
      v === 'reset' ||
      v === 'timeout' ||
      ((typeof v === 'number' || (typeof v === 'string' && /^\d{3}$/.test(v))) && Number(v) >= 400 && Number(v) <= 599),
    {
      error: (issue) =>
        `expected "connect-error", "reset", "timeout" or an HTTP status from 400 to 599, got ${describeValue(issue.input)}`,
    },
  )
  .transform((v) => String(v) as `${number}` | 'connect-error' | 'reset' | 'timeout');
