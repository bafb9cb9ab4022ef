/**
 * Vitest awaits each test, but a synchronous test (spawnSync CLI runs, fast-check loops) never lets
 * the worker's event loop turn: after a long enough run of them, replies from the main process sit
 * unread until the worker's 60 s RPC timer fires ("Timeout calling onTaskUpdate"). One turn of the
 * loop after every test keeps that channel served.
 *
 * A single stretch of synchronous work longer than that timer fails the run the same way, however
 * the tests around it yield: with KNET_BLOCK_LOG=FILE, each stretch over 5 s in which the worker
 * could not turn its event loop is appended to FILE with the test (or hook) it ended in, to find them.
 */
import {appendFileSync} from 'node:fs'
import {afterEach, expect} from 'vitest'
import {breathe} from './helpers/breathe.js'

const LOG = process.env.KNET_BLOCK_LOG
const TICK = 250
if (LOG) {
  // Measured where the loop turns again: a block in a test, a hook (beforeAll building a lab) or between them.
  let last = performance.now()
  setInterval(() => {
    const now = performance.now()
    const gap = now - last - TICK
    last = now
    if (gap > 5000) {
      const state = expect.getState()
      appendFileSync(LOG, `${Math.round(gap)} ${state.testPath ?? ''} > ${state.currentTestName ?? '(a hook, or between tests)'}\n`)
    }
  }, TICK).unref()
}

afterEach(breathe)
