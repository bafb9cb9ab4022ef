/** gatherNodes' progress events: the plan first, then each node's start and end, nothing drawn. */
import {describe, expect, it} from 'vitest'
import {catalogCommand, type CatalogCommand} from '../../../../src/lib/gather/node/catalog.js'
import {gatherNodes} from '../../../../src/lib/gather/node/gather-node.js'
import type {NodeProgress} from '../../../../src/lib/gather/node/progress.js'
import type {ExecOutcome, NodeTransport} from '../../../../src/lib/gather/node/transport.js'

/** A node that answers every command once `until` resolves (no timers: the order is the test's, not the clock's). */
function fake(until: Promise<void> = Promise.resolve()): NodeTransport {
  return {
    kind: 'fake',
    target: 'fake',
    exec: async (c: CatalogCommand): Promise<ExecOutcome> => {
      await until
      return {execArgv: [...c.argv], exitCode: 0, stdout: '', stderr: '', durationMs: 1, timedOut: false, truncated: false, notFound: false}
    },
  }
}

describe('gatherNodes onNodeProgress', () => {
  it('plan, then start and done per node, at most `parallel` running at once', async () => {
    const events: NodeProgress[] = []
    const commands = [catalogCommand('links')] as CatalogCommand[]
    // node-1 answers only once node-3 is done: node-3 can start only when node-2 has freed its slot.
    let release = (): void => undefined
    const node3Done = new Promise<void>((r) => (release = r))
    const targets = [
      {name: 'node-1', transport: fake(node3Done)},
      {name: 'node-2', transport: fake()},
      {name: 'node-3', transport: fake()},
    ]
    await gatherNodes(targets, {commands, parallel: 2, onNodeProgress: (e) => {
      events.push(e)
      if (e.kind === 'done' && e.node === 'node-3') release()
    }})
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

describe('gatherNodes commandTimeoutMs (--timeout, when given)', () => {
  /** The limit each command was run with, by id. */
  async function limits(commandTimeoutMs?: number): Promise<Record<string, number>> {
    const seen: Record<string, number> = {}
    const transport: NodeTransport = {
      kind: 'fake',
      target: 'fake',
      exec: async (c: CatalogCommand): Promise<ExecOutcome> => {
        seen[c.id] = c.timeoutMs
        return {execArgv: [...c.argv], exitCode: 0, stdout: '', stderr: '', durationMs: 1, timedOut: false, truncated: false, notFound: false}
      },
    }
    const commands = [catalogCommand('links'), catalogCommand('conntrack'), catalogCommand('iptables-save')] as CatalogCommand[]
    await gatherNodes([{name: 'n', transport}], {commands, ...(commandTimeoutMs === undefined ? {} : {commandTimeoutMs})})
    return seen
  }

  it("raises each command's limit to it, and keeps a longer limit of the catalogue's own", async () => {
    expect(await limits()).toEqual({links: 10_000, conntrack: 20_000, 'iptables-save': 60_000})
    expect(await limits(15_000)).toEqual({links: 15_000, conntrack: 20_000, 'iptables-save': 60_000})
    expect(await limits(120_000)).toEqual({links: 120_000, conntrack: 120_000, 'iptables-save': 120_000})
  })
})
