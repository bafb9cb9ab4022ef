/**
 * The prober (dist/lib/lab/prober.js, as `knet lab probe` and the lab suites run it) against a
 * server on loopback: an answer that arrives while the prober is off the CPU is still an answer.
 * The prober is stopped (SIGSTOP) as soon as its attempt reaches the server, the server answers,
 * and the prober is continued only after its attempt's timeout has passed on the wall clock — what a
 * loaded machine does to a just-started process. Without the stall accounting, Node ran the expired
 * timer before reading the socket and the attempt was a timeout (seen on two CI runs at once: every
 * first attempt from one pod timed out, later ones were delivered).
 */
import {spawn} from 'node:child_process'
import {createServer, type AddressInfo} from 'node:net'
import {afterEach, describe, expect, it} from 'vitest'
import {helperScript} from '../../../src/lib/lab/processes.js'
import type {ProberAttempt, ProberJob} from '../../../src/lib/lab/prober.js'

// The attempt's own timeout is long enough that this test's server always accepts within it, even
// on a loaded machine; the prober is then stopped for longer than that timeout.
const TIMEOUT_MS = 5000
const STOPPED_MS = 7000
const cleanups: (() => void)[] = []
afterEach(() => cleanups.splice(0).forEach((c) => c()))

/** Runs the prober on `job` from this namespace; its pid, and the attempts it printed once it exits. */
function runProber(job: ProberJob): {pid: number; result: Promise<ProberAttempt[]>} {
  const child = spawn(process.execPath, [helperScript('prober'), JSON.stringify([job])], {stdio: ['ignore', 'pipe', 'inherit']})
  cleanups.push(() => child.kill('SIGKILL'))
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const result = new Promise<ProberAttempt[]>((resolve) =>
    child.on('close', () => resolve(out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as ProberAttempt))),
  )
  return {pid: child.pid as number, result}
}

/** Stop the prober, let `answer` go out, continue it once its timeout is long past. */
function stallWhile(pid: number, answer: () => void): void {
  process.kill(pid, 'SIGSTOP')
  answer()
  setTimeout(() => process.kill(pid, 'SIGCONT'), STOPPED_MS)
}

describe('prober: time the prober itself stood still is not the network\'s', () => {
  it('tcp: the answer that arrived while it was stopped is delivered', async () => {
    const prober = {pid: 0}
    const server = createServer((socket) => {
      socket.on('error', () => undefined)
      stallWhile(prober.pid, () => socket.end('srv'))
    })
    cleanups.push(() => server.close())
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const run = runProber({protocol: 'tcp', ip: '127.0.0.1', port: (server.address() as AddressInfo).port, attempts: 1, timeoutMs: TIMEOUT_MS, size: 16})
    prober.pid = run.pid
    const [attempt] = await run.result
    expect(attempt).toMatchObject({outcome: 'delivered', answeredBy: 'srv'})
    expect(attempt?.ms).toBeGreaterThan(STOPPED_MS - 100)
  }, 120_000)
})
