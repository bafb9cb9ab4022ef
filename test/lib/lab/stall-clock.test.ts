/**
 * deadline(): a timeout that counts only the time this process could run. The event loop is
 * stalled on purpose (a busy loop: no timer, no I/O can run), which is what being off the CPU
 * looks like from inside: the deadline, already past on the wall clock, is pushed back by the
 * stall instead of firing at the first chance; without a stall it fires on time; cleared, never.
 */
import {describe, expect, it} from 'vitest'
import {deadline} from '../../../src/lib/lab/stall-clock.js'

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
function busy(ms: number): void {
  const end = performance.now() + ms
  while (performance.now() < end) {
    // the event loop stands still
  }
}

describe('deadline', () => {
  it('a stall longer than the deadline is added back: not expired at the first turns after it, expired later', async () => {
    let expiredAt: number | undefined
    const start = performance.now()
    deadline(200, () => (expiredAt = performance.now()))
    await turn()
    busy(1000)
    // The timers phase has run (the deadline was due 800 ms ago): it re-armed instead of expiring.
    await sleep(0)
    await turn()
    await sleep(0)
    expect(expiredAt).toBeUndefined()
    while (expiredAt === undefined) await sleep(20)
    // 200 ms of running time plus the ~1000 ms stall (less one watchdog tick at most).
    expect(expiredAt - start).toBeGreaterThanOrEqual(1100)
  })

  it('without a stall it expires after its time, and a cleared deadline never does', async () => {
    let expired = 0
    let cleared = 0
    const start = performance.now()
    deadline(100, () => (expired = performance.now()))
    deadline(100, () => cleared++).clear()
    while (expired === 0) await sleep(10)
    expect(expired - start).toBeGreaterThanOrEqual(100)
    await sleep(300)
    expect(cleared).toBe(0)
  })
})
