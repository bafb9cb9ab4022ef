/** gatherNodes' progress events: the plan first, then each node's start and end, nothing drawn. */
import {describe, expect, it} from 'vitest'
import {catalogCommand, type CatalogCommand} from '../../../../src/lib/gather/node/catalog.js'
import {gatherNodes} from '../../../../src/lib/gather/node/gather-node.js'
import type {NodeProgress} from '../../../../src/lib/gather/node/progress.js'
import type {ExecOutcome, NodeTransport} from '../../../../src/lib/gather/node/transport.js'

/** A node that answers every command after `delayMs`. */
function fake(delayMs: number): NodeTransport {
  return {
    kind: 'fake',
    target: 'fake',
    exec: async (c: CatalogCommand): Promise<ExecOutcome> => {
      await new Promise((r) => setTimeout(r, delayMs))
      return {execArgv: [...c.argv], exitCode: 0, stdout: '', stderr: '', durationMs: delayMs, timedOut: false, truncated: false, notFound: false}
    },
  }
}

describe('gatherNodes onNodeProgress', () => {
  it('plan, then start and done per node, at most `parallel` running at once', async () => {
    const events: NodeProgress[] = []
    const commands = [catalogCommand('links')] as CatalogCommand[]
    const targets = [
      {name: 'node-1', transport: fake(30)},
      {name: 'node-2', transport: fake(1)},
      {name: 'node-3', transport: fake(1)},
    ]
    await gatherNodes(targets, {commands, parallel: 2, onNodeProgress: (e) => events.push(e)})
    expect(events).toEqual([
      {kind: 'plan', nodes: ['node-1', 'node-2', 'node-3']},
      {kind: 'start', node: 'node-1'},
      {kind: 'start', node: 'node-2'},
      {kind: 'done', node: 'node-2'},
      {kind: 'start', node: 'node-3'},
      {kind: 'done', node: 'node-3'},
      {kind: 'done', node: 'node-1'},
    ])
  })
})
