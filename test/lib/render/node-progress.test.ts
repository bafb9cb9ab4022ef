/** The status line of a multi-node gather on a terminal, folded from the gather's events. */
import {describe, expect, it} from 'vitest'
import type {NodeProgress} from '../../../src/lib/gather/node/progress.js'
import {applyProgress, emptyProgress, progressLine, type NodeProgressState} from '../../../src/lib/render/node-progress.js'

/** Events with the times (ms) they were seen. */
function fold(events: [number, NodeProgress][]): NodeProgressState {
  return events.reduce((state, [at, event]) => applyProgress(state, event, at), emptyProgress())
}

const plan: [number, NodeProgress] = [0, {kind: 'plan', nodes: ['node-1', 'node-2', 'node-3', 'node-4']}]

describe('progressLine', () => {
  it('counts done of total; names the node running longest, with its time, and how many others run', () => {
    const state = fold([plan, [0, {kind: 'start', node: 'node-1'}], [100, {kind: 'start', node: 'node-2'}], [200, {kind: 'start', node: 'node-3'}], [4000, {kind: 'done', node: 'node-1'}]])
    expect(state).toEqual({total: 4, done: 1, running: new Map([['node-2', 100], ['node-3', 200]])})
    expect(progressLine(state, 12_600, 80)).toBe('nodes 1/4 done · slowest: node-2 (12s) +1 running')
  })

  it('one node left: no "+N running"; minutes past 60 s; nothing running: just the count', () => {
    const one = fold([plan, [0, {kind: 'start', node: 'node-4'}]])
    expect(progressLine(one, 125_000, 80)).toBe('nodes 0/4 done · slowest: node-4 (2m05s)')
    const all = fold([plan, ...['node-1', 'node-2', 'node-3', 'node-4'].flatMap((node): [number, NodeProgress][] => [[0, {kind: 'start', node}], [1, {kind: 'done', node}]])])
    expect(progressLine(all, 5000, 80)).toBe('nodes 4/4 done')
  })

  it('nodes that started at the same time: the first by name, so the line does not flicker between them', () => {
    const state = fold([plan, [0, {kind: 'start', node: 'node-b'}], [0, {kind: 'start', node: 'node-a'}]])
    expect(progressLine(state, 3000, 80)).toBe('nodes 0/4 done · slowest: node-a (3s) +1 running')
  })

  it('never as wide as the terminal: a wrapped line could not be redrawn in place', () => {
    const state = fold([plan, [0, {kind: 'start', node: 'a-very-long-node-name.compute.internal'}]])
    const line = progressLine(state, 1000, 40)
    expect(line).toBe('nodes 0/4 done · slowest: a-very-long-…')
    expect(line.length).toBe(39)
  })

  it('plans add up (a gather in two rounds counts both)', () => {
    expect(fold([plan, [0, {kind: 'plan', nodes: ['node-9']}]]).total).toBe(5)
  })
})
