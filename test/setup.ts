/**
 * Vitest awaits each test, but a synchronous test (spawnSync CLI runs, fast-check loops) never lets
 * the worker's event loop turn: after a long enough run of them, replies from the main process sit
 * unread until the worker's 60 s RPC timer fires ("Timeout calling onTaskUpdate"). One turn of the
 * loop after every test keeps that channel served.
 *
 * A single stretch of synchronous work longer than that timer fails the run the same way, however
 * the tests around it yield: with KNET_BLOCK_LOG=FILE, each test whose worker could not turn its
 * event loop for over 5 s is appended to FILE with the longest stretch, to find them.
 */
import {appendFileSync} from 'node:fs'
import {afterEach, beforeEach, expect} from 'vitest'

const LOG = process.env.KNET_BLOCK_LOG
const TICK = 250
let last = performance.now()
let worst = 0
if (LOG) {
  setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - TICK)
    last = now
  }, TICK).unref()
  beforeEach(() => {
    worst = 0
    last = performance.now()
  })
}

afterEach(async () => {
  if (LOG) {
    worst = Math.max(worst, performance.now() - last - TICK)
    if (worst > 5000) appendFileSync(LOG, `${Math.round(worst)} ${expect.getState().testPath ?? ''} > ${expect.getState().currentTestName ?? ''}\n`)
  }
  await new Promise<void>((resolve) => setImmediate(resolve))
})
