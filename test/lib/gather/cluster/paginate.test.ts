import {describe, expect, it} from 'vitest'
import {ApiHttpError} from '../../../../src/lib/gather/cluster/api-errors.js'
import type {ClusterSource, ListPage} from '../../../../src/lib/gather/cluster/client.js'
import {DEFAULT_PAGE_SIZE, listAll} from '../../../../src/lib/gather/cluster/paginate.js'

function fakeSource(pages: (ListPage | Error)[]): ClusterSource & {calls: {limit: number; continue?: string}[]} {
  const calls: {limit: number; continue?: string}[] = []
  let i = 0
  return {
    server: 'https://fake',
    context: 'fake',
    calls,
    async listPage(_resource, page) {
      calls.push(page)
      const next = pages[i++]
      if (!next) throw new Error('no more pages scripted')
      if (next instanceof Error) throw next
      return next
    },
    async kubeProxyConfigMap() {
      return null
    },
    async version() {
      return {major: '1', minor: '31', gitVersion: 'v1.31.0'}
    },
    close() {},
  }
}

const expired = new ApiHttpError(410, {code: 410, reason: 'Expired', message: 'The provided continue parameter is too old'})

describe('listAll', () => {
  it('follows continue tokens with the default page size', async () => {
    const source = fakeSource([{items: [1, 2], continue: 'c1', remainingItemCount: 1}, {items: [3]}])
    const progress: [number, number | undefined][] = []
    expect(await listAll(source, 'pods', {onPage: (_r, n, rest) => progress.push([n, rest])})).toEqual([1, 2, 3])
    expect(source.calls).toEqual([{limit: DEFAULT_PAGE_SIZE, continue: undefined}, {limit: DEFAULT_PAGE_SIZE, continue: 'c1'}])
    expect(progress).toEqual([[2, 1], [3, undefined]])
  })

  it('restarts from scratch once after 410 on a continue, discarding the partial list', async () => {
    const source = fakeSource([{items: [1], continue: 'c1'}, expired, {items: [1], continue: 'c2'}, {items: [2]}])
    expect(await listAll(source, 'pods', {pageSize: 1})).toEqual([1, 2])
    expect(source.calls.map((c) => c.continue)).toEqual([undefined, 'c1', undefined, 'c2'])
  })

  it('gives up on a second 410', async () => {
    const source = fakeSource([{items: [1], continue: 'c1'}, expired, {items: [1], continue: 'c2'}, expired])
    await expect(listAll(source, 'pods', {pageSize: 1})).rejects.toBe(expired)
  })

  it('does not retry other errors', async () => {
    const forbidden = new ApiHttpError(403, {code: 403, reason: 'Forbidden'})
    const source = fakeSource([{items: [1], continue: 'c1'}, forbidden])
    await expect(listAll(source, 'pods')).rejects.toBe(forbidden)
    expect(source.calls).toHaveLength(2)
  })
})
