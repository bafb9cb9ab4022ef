/**
 * The one status line a person watching a multi-node gather sees on a terminal: how many nodes
 * are done of how many, and the node that has been running longest (the one everyone waits for).
 * Pure: the state is folded from the gather's events with the times the caller saw them.
 */
import type {NodeProgress} from '../gather/node/progress.js'

export interface NodeProgressState {
  total: number
  done: number
  /** Nodes still running → when they started (ms, the caller's clock), in start order. */
  running: Map<string, number>
}

export function emptyProgress(): NodeProgressState {
  return {total: 0, done: 0, running: new Map()}
}

export function applyProgress(state: NodeProgressState, event: NodeProgress, now: number): NodeProgressState {
  const running = new Map(state.running)
  switch (event.kind) {
    case 'plan':
      return {total: state.total + event.nodes.length, done: state.done, running}
    case 'start':
      running.set(event.node, now)
      return {...state, running}
    case 'done':
      running.delete(event.node)
      return {...state, done: state.done + 1, running}
  }
}

/** `nodes 3/10 done · slowest: node-7 (12s)`, cut to fit `width` columns (a wrapped line could not be redrawn in place). */
export function progressLine(state: NodeProgressState, now: number, width: number): string {
  let line = `nodes ${state.done}/${state.total} done`
  const slowest = [...state.running].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))[0]
  if (slowest) {
    const others = state.running.size - 1
    line += ` · slowest: ${slowest[0]} (${elapsed(now - slowest[1])})${others > 0 ? ` +${others} running` : ''}`
  }
  const room = Math.max(1, width - 1)
  return line.length <= room ? line : `${line.slice(0, Math.max(0, room - 1))}…`
}

function elapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
}
