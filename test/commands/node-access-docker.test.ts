/**
 * `--node-access docker` end to end through the CLI. Docker itself is not needed: without the
 * client every node is one clear collection error; where the client is installed, a daemon that
 * does not answer is one too (the argv docker receives is checked in test/lib/gather/node/docker.test.ts).
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {findExecutable} from '../../src/lib/gather/node/client-on-path.js'
import {readSnapshot} from '../../src/lib/snapshot/read.js'
import {knetAsync} from '../helpers/cli.js'

describe.concurrent('knet snapshot --node-access docker', () => {
  let dir: string
  let objects: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'knet-docker-test-'))
    objects = join(dir, 'nodes.json')
    const node = (name: string) => ({apiVersion: 'v1', kind: 'Node', metadata: {name}})
    writeFileSync(objects, JSON.stringify({apiVersion: 'v1', kind: 'List', items: [node('kind-control-plane'), node('kind-worker')]}))
  })
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('without the docker client: one collection error per node, exit 3, the snapshot still written', async () => {
    // Only node's own folder on PATH: no docker there (node itself runs by absolute path).
    const r = await knetAsync(['snapshot', '--node-access', 'docker', '--objects', objects, '-o', join(dir, 'a.json')], {env: {PATH: dirname(process.execPath)}})
    expect(r.status, r.stderr).toBe(3)
    const snapshot = await readSnapshot(join(dir, 'a.json'))
    expect(snapshot.meta.nodeAccess).toBe('docker')
    expect(snapshot.nodes).toEqual([])
    expect(snapshot.collectionErrors).toEqual(
      ['kind-control-plane', 'kind-worker'].map((node) => ({node, source: 'node-access', kind: 'not-found', message: 'docker is not installed on this machine (--node-access docker runs the docker CLI)'})),
    )
  })

  it.skipIf(!findExecutable('docker'))('with the client but no daemon: each node is a collection error naming its container [skipped where docker is not installed]', async () => {
    const r = await knetAsync(
      ['snapshot', '--node-access', 'docker', '--objects', objects, '--docker-container-map', 'kind-worker=renamed-worker', '-o', join(dir, 'b.json')],
      {env: {DOCKER_HOST: 'unix:///nonexistent/knet-test-docker.sock'}},
    )
    expect(r.status, r.stderr).toBe(3)
    const snapshot = await readSnapshot(join(dir, 'b.json'))
    expect(snapshot.nodes.map((n) => [n.name, n.access])).toEqual([
      ['kind-control-plane', {kind: 'docker', target: 'kind-control-plane'}],
      ['kind-worker', {kind: 'docker', target: 'renamed-worker'}],
    ])
    const worker = snapshot.nodes[1]
    expect(worker?.results[0]?.execArgv).toEqual(['docker', 'exec', '--env', 'LC_ALL=C', 'renamed-worker', 'ip', '-j', '-d', 'link', 'show'])
    expect(worker?.results.every((res) => res.status === 'failed' && res.reason?.startsWith('docker exec into renamed-worker failed: Cannot connect to the Docker daemon'))).toBe(true)
  })

  it('refuses a container name docker could read as an option, with one line and exit 2', async () => {
    const r = await knetAsync(['snapshot', '--node-access', 'docker', '--no-cluster', '--docker-container-map', 'kind-worker=--privileged', '-o', join(dir, 'c.json')])
    expect(r.status).toBe(2)
    expect(r.stderr.trim()).toBe(`knet: --docker-container-map: "kind-worker=--privileged" is not NODE=CONTAINER (letters, digits, '.', '_', '-')`)
  })
})
