/**
 * Waiting for a condition instead of sleeping for a guessed time: a fixed sleep is too short on a
 * loaded machine (CI runs two suites at once on two cores) and wasted on an idle one. Every wait
 * has a deadline and says what it waited for when it gives up. No vitest here, so fixture-capture
 * scripts run with tsx can use it too.
 */

export interface WaitOptions {
  /** Give up after this long (default 30 s: generous, since reaching it is a failure anyway). */
  timeoutMs?: number
  /** Pause between two checks. */
  intervalMs?: number
}

/**
 * Calls `check` until it returns something other than undefined or false, and returns that. A
 * check that throws is retried; at the deadline the last error (or "timed out") is thrown.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions = {}): Promise<T> {
  const {timeoutMs = 30_000, intervalMs = 50} = options
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let last: unknown
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message ?? String(last)}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** waitFor for synchronous builders (the namespace builders run commands with execFileSync). */
export function waitForSync<T>(what: string, check: () => T | undefined | false, options: WaitOptions = {}): T {
  const {timeoutMs = 30_000, intervalMs = 50} = options
  const deadline = Date.now() + timeoutMs
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (;;) {
    let last: unknown
    try {
      const value = check()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message ?? String(last)}` : ''}`)
    Atomics.wait(pause, 0, 0, intervalMs)
  }
}
