/** Partial evidence, as a loaded node gives it: a snapshot's node commands that timed out. */
import type {Snapshot} from '../../src/lib/snapshot/schema.js'

/**
 * For each node command that succeeded in `base`, a copy of it where that one command timed out
 * (no output, `timed out after 10000 ms`), with the node and the command's id.
 */
export function* eachCommandTimedOut(base: Snapshot): Generator<{node: string; id: string; snapshot: Snapshot}> {
  for (const node of base.nodes) {
    for (const result of node.results) {
      if (result.status !== 'ok') continue
      const snapshot = structuredClone(base)
      const r = snapshot.nodes.find((n) => n.name === node.name)?.results.find((x) => x.id === result.id)
      Object.assign(r as object, {status: 'timeout', stdout: '', stderr: '', exitCode: null, reason: 'timed out after 10000 ms'})
      yield {node: node.name, id: result.id, snapshot}
    }
  }
}
