/** The trace command end to end from a snapshot file: output formats, exit codes, usage errors. */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {readSnapshot} from '../../src/lib/snapshot/read.js'
import {knetAsync} from '../helpers/cli.js'

const hostGw = fileURLToPath(new URL('../lib/trace/fixtures/lab-host-gw.json.gz', import.meta.url))

describe('knet trace --snapshot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knet-trace-cmd-'))
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('delivered: exit 0, the verdict first, then what was traced and the path; -v adds every hop', async () => {
    const r = await knetAsync(['trace', 'web-1-1', 'web-2-2', '--snapshot', hostGw], {env: {COLUMNS: '200'}})
    expect(r.status).toBe(0)
    expect(r.stdout.split('\n').slice(0, 3)).toEqual([
      'verdict: DELIVERED',
      'pod/default/web-1-1 (10.244.1.2) → pod/default/web-2-2 (10.244.2.3:8080) tcp',
      'path: web-1-1 eth0 → veth1 → cbr0 → node-1 eth0 → 10.100.0.3 → node-2 eth0 → cbr0 → veth2 → web-2-2 eth0',
    ])
    expect(r.stderr).toBe('')
    for (const flag of ['-v', '--verbose']) {
      const v = await knetAsync(['trace', 'web-1-1', 'web-2-2', '--snapshot', hostGw, flag], {env: {COLUMNS: '200'}})
      expect(v.status).toBe(0)
      expect(v.stdout.split('\n')[0]).toBe('pod/default/web-1-1 (10.244.1.2) → pod/default/web-2-2 (10.244.2.3:8080) tcp')
      expect(v.stdout.trimEnd().split('\n').at(-1)).toBe('verdict: DELIVERED')
    }
  })

  it('a Service: the endpoints collapsed into the ways they take, in a screen', async () => {
    const r = await knetAsync(['trace', 'web-1-1', 'svc/default/web:http', '--snapshot', hostGw], {env: {COLUMNS: '80'}})
    expect(r.status).toBe(0)
    const lines = r.stdout.trimEnd().split('\n')
    expect(lines.slice(0, 3)).toEqual(['verdict: DELIVERED', 'pod/default/web-1-1 (10.244.1.2) → svc/default/web (10.96.0.80:80) tcp', '4 endpoints: 4 delivered'])
    expect(lines.length).toBeLessThanOrEqual(25)
  })

  it('-o json and --json print the same contract on stdout', async () => {
    const a = await knetAsync(['trace', 'web-1-1', 'svc/default/web:http', '--snapshot', hostGw, '-o', 'json'])
    const b = await knetAsync(['trace', 'web-1-1', 'svc/default/web:http', '--snapshot', hostGw, '--json'])
    expect(a.status).toBe(0)
    expect(a.stdout).toBe(b.stdout)
    const j = JSON.parse(a.stdout)
    expect(j).toMatchObject({schemaVersion: 1, protocol: 'tcp', port: 80, verdict: 'delivered', reason: null, destination: {kind: 'service', name: 'svc/default/web', ip: '10.96.0.80'}})
    expect(j.branches).toHaveLength(4)
  })

  it('dropped: exit 1 with the reason code', async () => {
    const r = await knetAsync(['trace', 'web-2-1', 'svc/default/empty', '--snapshot', hostGw, '-o', 'json'])
    expect(r.status).toBe(1)
    expect(JSON.parse(r.stdout).reason).toEqual({code: 'netfilter-reject', message: 'node-2 rejects it in filter FORWARD (default/empty:http has no endpoints)', hop: 3})
  })

  it('unknown: exit 3', async () => {
    const snap = await readSnapshot(hostGw)
    const node = snap.nodes.find((n) => n.name === 'node-2')
    const result = node?.results.find((x) => x.id === 'routes4')
    if (!result) throw new Error('fixture lacks routes4')
    result.status = 'timeout'
    result.stdout = ''
    const file = join(dir, 'no-routes.json')
    writeFileSync(file, JSON.stringify(snap))
    const r = await knetAsync(['trace', 'web-1-1', 'web-2-1', '--snapshot', file, '--json'])
    expect(r.status).toBe(3)
    expect(JSON.parse(r.stdout)).toMatchObject({verdict: 'unknown', reason: {code: 'evidence-missing', hop: 6}})
  })

  it('usage errors exit 2 with one line', async () => {
    const cases: [string[], string][] = [
      [['trace', 'web-1-1', 'nosuch', '--snapshot', hostGw], 'knet: no pod default/nosuch in the cluster state (check the name and -n/--namespace)\n'],
      [['trace', 'web-1-1', 'svc/default/web:99', '--snapshot', hostGw], 'knet: service default/web has no port 99 (its ports: http=80/TCP; write svc/NS/NAME:PORT)\n'],
      [['trace', 'a/b/c/d', 'web-1-1', '--snapshot', hostGw], 'knet: "a/b/c/d" is not pod/NS/NAME, NS/NAME, NAME, svc/NS/NAME[:PORT], node/NAME, IP[:PORT] or [IPv6]:PORT\n'],
      [['trace', 'web-1-1', 'svc/default/web', '--ip-family', '6', '--snapshot', hostGw], 'knet: service default/web has no IPv6 ClusterIP (its families: IPv4) (trace it with --ip-family 4)\n'],
      [['trace', '192.0.2.1', 'web-1-1', '--snapshot', hostGw], "knet: 192.0.2.1 is no pod's, Service's or node's address (say where it enters the cluster with --entry-node NAME)\n"],
      [['trace', 'web-1-1', 'web-2-1', '--snapshot', hostGw, '--probe'], 'knet: --probe sends a real packet: it needs a live cluster (a kubeconfig) or --lab, not --snapshot\n'],
      [['trace', 'web-1-1', 'web-2-1', '--objects', hostGw, '--probe'], 'knet: --probe sends a real packet: it needs a live cluster (a kubeconfig) or --lab, not --objects\n'],
    ]
    for (const [args, stderr] of cases) {
      const r = await knetAsync(args)
      expect([r.status, r.stderr, r.stdout]).toEqual([2, stderr, ''])
    }
    const flag = await knetAsync(['trace', 'web-1-1', 'web-2-1', '--snapshot', hostGw, '--protocol', 'sctp'])
    expect(flag.status).toBe(2)
    const both = await knetAsync(['trace', 'web-1-1', 'web-2-1', '--snapshot', hostGw, '--lab', 'x'])
    expect(both.status).toBe(2)
  })
})
