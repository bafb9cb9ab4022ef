import {mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {LabStateStore, labRoot, readLabState, removeLabState, statePath, type LabState} from '../../../src/lib/lab/state.js'
import {KnetError} from '../../../src/lib/report/errors.js'

const root = mkdtempSync(join(tmpdir(), 'knet-labstate-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))

const base: LabState = {
  schemaVersion: 1,
  name: 's1',
  status: 'building',
  params: {name: 's1', nodes: 2, podsPerNode: 1, topology: 'host-gw'},
  createdAt: '2026-01-01T00:00:00Z',
  prefix: 'knetlab-s1-',
  namespaces: [],
  processes: [],
  nodeMap: {'node-1': 'knetlab-s1-n1'},
  dir: join(root, 'lab-s1'),
}

describe('lab state file', () => {
  it('KNET_LAB_DIR overrides /run/knet', () => {
    expect(labRoot({})).toBe('/run/knet')
    expect(labRoot({KNET_LAB_DIR: '/tmp/x'})).toBe('/tmp/x')
    expect(statePath('knet', '/tmp/x')).toBe('/tmp/x/lab-knet.json')
  })

  it('records each change atomically and reads it back', async () => {
    const store = new LabStateStore(structuredClone(base), root)
    await Promise.all([store.update((s) => void s.namespaces.push('knetlab-s1-rt')), store.update((s) => void s.processes.push({pid: 42, role: 'responder', marker: 'knetlab-s1-'}))])
    await store.update((s) => (s.status = 'up'))
    const read = await readLabState('s1', root)
    expect(read).toEqual({...base, status: 'up', namespaces: ['knetlab-s1-rt'], processes: [{pid: 42, role: 'responder', marker: 'knetlab-s1-'}]})
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([])
  })

  it('missing → undefined; corrupt → bad input; remove is idempotent', async () => {
    expect(await readLabState('nope', root)).toBeUndefined()
    writeFileSync(statePath('bad', root), '{"schemaVersion": 99}')
    await expect(readLabState('bad', root)).rejects.toBeInstanceOf(KnetError)
    await removeLabState('s1', root)
    await removeLabState('s1', root)
    expect(await readLabState('s1', root)).toBeUndefined()
  })
})
