import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {afterAll, describe, expect, it} from 'vitest'
import {knetAsync} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'knet-snaperr-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function file(name: string, content: string | Buffer): string {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

function expectOneLineError(r: {status: number; stderr: string; stdout: string}, code: number, pattern: RegExp): void {
  expect(r.status).toBe(code)
  expect(r.stdout).toBe('')
  const lines = r.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^knet: /)
  expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
}

const minimal = {
  schemaVersion: 1,
  kind: 'KnetSnapshot',
  meta: {knetVersion: '0.0.0', capturedAt: '2026-01-01T00:00:00.000Z', nodeAccess: 'none', clusterSource: null, catalog: []},
  nodes: [],
  cluster: null,
  collectionErrors: [],
}

describe('reading snapshots: bad input is one line and exit 2', () => {
  it('reads a valid minimal snapshot, plain and gzip', async () => {
    for (const path of [file('ok.json', JSON.stringify(minimal)), file('ok.json.gz', gzipSync(JSON.stringify(minimal)))]) {
      const r = await knetAsync(['snapshot', 'show', path, '--json'])
      expect(r.stderr).toBe('')
      expect(r.status).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({schemaVersion: 1, snapshotSchemaVersion: 1, nodes: [], cluster: null})
    }
  })

  it('refuses a missing file', async () => {
    expectOneLineError((await knetAsync(['snapshot', 'show', join(dir, 'nope.json')])), 2, /cannot read snapshot .*nope\.json: no such file/)
  })

  it('refuses invalid JSON', async () => {
    expectOneLineError((await knetAsync(['snapshot', 'show', file('bad.json', '{"schemaVersion": 1,')])), 2, /is not a knet snapshot: invalid JSON/)
  })

  it('refuses corrupt gzip', async () => {
    const gz = gzipSync(JSON.stringify(minimal))
    expectOneLineError((await knetAsync(['snapshot', 'show', file('bad.json.gz', gz.subarray(0, 20))])), 2, /corrupt gzip data/)
  })

  it('refuses a document that is not a snapshot', async () => {
    expectOneLineError((await knetAsync(['snapshot', 'show', file('other.json', '{"kind":"List","items":[]}')])), 2, /missing "kind": "KnetSnapshot"/)
  })

  it('refuses a newer schemaVersion and says to upgrade', async () => {
    const path = file('newer.json', JSON.stringify({...minimal, schemaVersion: 99}))
    expectOneLineError((await knetAsync(['snapshot', 'show', path])), 2, /schemaVersion 99, newer than this knet reads \(1\) \(upgrade knet to read it\)/)
  })

  it('names the first field that does not fit the schema', async () => {
    const path = file('wrong.json', JSON.stringify({...minimal, nodes: [{name: 'n1', access: {kind: 'local', target: 'x'}, results: [{id: 'links'}]}]}))
    expectOneLineError((await knetAsync(['snapshot', 'show', path])), 2, /not a valid knet snapshot: at nodes\.0\.results\.0\.argv/)
  })
})

describe('snapshot flags are validated at parse time', () => {
  it('rejects a malformed --netns-map', async () => {
    expectOneLineError((await knetAsync(['snapshot', '--netns-map', 'node-1', '--no-cluster', '-o', join(dir, 'x.json')])), 2, /--netns-map: "node-1" is not NODE=NAME/)
  })
  it('rejects a namespace name that could be an option', async () => {
    expectOneLineError((await knetAsync(['snapshot', '--netns-map', 'node-1=-all', '--no-cluster', '-o', join(dir, 'x.json')])), 2, /is not NODE=NAME/)
  })
  it('rejects an unknown --node-access mode', async () => {
    const r = await knetAsync(['snapshot', '--node-access', 'telnet', '--no-cluster'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^knet: Expected --node-access=telnet to be one of: pod, agent, ssh, docker, local, netns, none/)
  })
  it('rejects an unknown flag', async () => {
    const r = await knetAsync(['snapshot', '--frobnicate'])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^knet: Nonexistent flag: --frobnicate/)
  })
  it('rejects a bad --timeout', async () => {
    expectOneLineError((await knetAsync(['snapshot', '--timeout', 'soon', '--no-cluster'])), 2, /--timeout: "soon" is not a duration/)
  })
  it('netns access without a map is a usage error', async () => {
    expectOneLineError((await knetAsync(['snapshot', '--node-access', 'netns', '--no-cluster', '-o', join(dir, 'x.json')])), 2, /--node-access netns needs --netns-map/)
  })
})
