/** The status line's driver: only on a terminal, log lines above it, erased at the end. */
import {describe, expect, it} from 'vitest'
import {terminalProgress} from '../../../src/lib/cli/progress-line.js'

const CLEAR = '\r\u001B[2K'

function stream(isTTY: boolean) {
  const writes: string[] = []
  return {writes, s: {isTTY, columns: 60, write: (t: string) => writes.push(t)}}
}

describe('terminalProgress', () => {
  it('is nothing at all when stderr is not a terminal', () => {
    expect(terminalProgress(stream(false).s)).toBeUndefined()
  })

  it('redraws one line in place, prints log lines above it, and erases it at the end', () => {
    const {writes, s} = stream(true)
    let now = 0
    const p = terminalProgress(s, () => now)
    if (!p) throw new Error('expected a progress display on a terminal')
    p.onProgress('connecting to https://10.0.0.1:6443')
    p.onNodeProgress({kind: 'plan', nodes: ['node-1', 'node-2']})
    p.onNodeProgress({kind: 'start', node: 'node-1'})
    now = 2000
    p.onProgress('  node-1: 20 ok')
    p.onNodeProgress({kind: 'done', node: 'node-1'})
    p.stop()
    expect(writes).toEqual([
      // Before any node is planned there is no status line to clear.
      'connecting to https://10.0.0.1:6443\n',
      `${CLEAR}nodes 0/2 done`,
      `${CLEAR}nodes 0/2 done · slowest: node-1 (0s)`,
      CLEAR,
      '  node-1: 20 ok\n',
      `${CLEAR}nodes 0/2 done · slowest: node-1 (2s)`,
      `${CLEAR}nodes 1/2 done`,
      CLEAR,
    ])
  })
})
