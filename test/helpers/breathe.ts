/**
 * One turn of the event loop. A test that runs synchronous work in a long loop (execFileSync per
 * query, a property check over many cases) awaits this between steps: a worker whose loop does not
 * turn for 60 s cannot read vitest's replies, and the run fails with "Timeout calling onTaskUpdate"
 * though every test passed (test/setup.ts). Under two CI runs at once a loop of 30 s alone is 90 s.
 */
export function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
