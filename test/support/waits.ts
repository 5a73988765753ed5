/**
 * Waiting in tests without guessing a time: poll a condition with a bound, or keep calls
 * going while something else happens (an outage, a push) and look at every outcome after.
 */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 5 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Sequential calls in a loop until stopped; every outcome kept. */
export function traffic<T>(call: () => Promise<T>): { outcomes: T[]; stop(): Promise<void> } {
  const outcomes: T[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      outcomes.push(await call());
      await sleep(2);
    }
  })();
  return {
    outcomes,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
