/**
 * knet trace and knet doctor as a user runs them (the built CLI) on a snapshot of kube-proxy IPVS-mode
 * nodes (test/fixtures/ipvs: kube-proxy's layout; its virtual services hand-written, the kernel here has no IPVS).
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ipvsSnapshot} from '../fixtures/ipvs/snapshot.js'
import {knetAsync} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'knet-ipvs-'))
const file = (name: string) => join(dir, name)

beforeAll(() => {
  writeFileSync(file('ipvs.json'), JSON.stringify(ipvsSnapshot()))
  writeFileSync(file('ipvs-stale.json'), JSON.stringify(ipvsSnapshot({'node-1': {ipvsadm: (t) => t.replace('-r 10.244.2.3:8080 -m -w 1', '-r 10.244.2.99:8080 -m -w 1')}})))
  // As kube-proxy leaves it: the stale real server under the ClusterIP and each NodePort address.
  writeFileSync(file('ipvs-stale-all.json'), JSON.stringify(ipvsSnapshot({'node-1': {ipvsadm: (t) => t.replace(/(-a -t (10\.96\.0\.81:80|[0-9.]+:30080)) -r 10\.244\.2\.3:8080/g, '$1 -r 10.244.2.99:8080')}})))
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('knet trace --snapshot on IPVS-mode nodes', () => {
  it('a Service: the real servers as endpoints, in the same shape as iptables mode', async () => {
    const r = await knetAsync(['trace', 'web-1-1', 'svc/default/web:http', '--snapshot', file('ipvs.json'), '-o', 'json'])
    expect(r.status).toBe(0)
    const j = JSON.parse(r.stdout) as {verdict: string; nat: {dnat: {ip: string; port: number; probability: number}[]}; branches: {verdict: string}[]}
    expect(j.verdict).toBe('delivered')
    expect(j.nat.dnat.map((d) => [d.ip, d.port, d.probability])).toEqual([['10.244.1.2', 8080, 0.25], ['10.244.1.3', 8080, 0.25], ['10.244.2.2', 8080, 0.25], ['10.244.2.3', 8080, 0.25]])
    const text = await knetAsync(['trace', 'web-1-1', 'svc/default/web:http', '--snapshot', file('ipvs.json')], {env: {COLUMNS: '120'}})
    expect(text.stdout.split('\n').slice(0, 3)).toEqual(['verdict: DELIVERED', 'pod/default/web-1-1 (10.244.1.2) → svc/default/web (10.96.0.80:80) tcp', '4 endpoints: 4 delivered'])
  })

  it('a Service without endpoints: exit 1, rejected by its empty virtual service', async () => {
    const r = await knetAsync(['trace', 'web-2-1', 'svc/default/empty', '--snapshot', file('ipvs.json'), '-o', 'json'])
    expect(r.status).toBe(1)
    expect(JSON.parse(r.stdout).reason).toMatchObject({code: 'netfilter-reject', message: 'node-2 rejects it: IPVS virtual service TCP 10.96.0.99:80 (default/empty:http) has no real server (no endpoints)'})
  })

  it('a stale real server: a branch dropped as nat-stale-endpoint', async () => {
    const r = await knetAsync(['trace', 'web-1-1', 'svc/default/web:http', '--snapshot', file('ipvs-stale.json'), '-o', 'json'])
    expect(r.status).toBe(1)
    expect(JSON.parse(r.stdout).reason).toMatchObject({code: 'nat-stale-endpoint'})
  })
})

describe('knet doctor --snapshot on IPVS-mode nodes', () => {
  it('healthy: exit 0, the NAT checks not skipped', async () => {
    const r = await knetAsync(['doctor', '--snapshot', file('ipvs.json'), '-o', 'json'])
    const doc = JSON.parse(r.stdout) as {findings: {check: string}[]; skipped: {check: string; reason: string}[]}
    expect(doc.findings.filter((f) => /^nat-|kube-proxy-mode|conntrack-stale/.test(f.check))).toEqual([])
    expect(doc.skipped.filter((s) => /^nat-/.test(s.check))).toEqual([])
  })

  it('a stale real server is an error naming the ipvsadm line', async () => {
    const r = await knetAsync(['doctor', '--snapshot', file('ipvs-stale.json'), '--only', 'nat-stale-endpoint', '-o', 'json'])
    expect(r.status).toBe(1)
    const doc = JSON.parse(r.stdout) as {findings: {check: string; node: string; evidence: {source: string; text: string}[]}[]}
    expect(doc.findings.map((f) => [f.check, f.node, f.evidence[0]])).toEqual([
      ['nat-stale-endpoint', 'node-1', {source: 'node-1: ipvsadm -S -n', text: '-a -t 10.96.0.80:80 -r 10.244.2.99:8080 -m -w 1'}],
    ])
  })

  it('a stale real server under several virtual services of one Service port is one finding, each ipvsadm line its evidence', async () => {
    const r = await knetAsync(['doctor', '--snapshot', file('ipvs-stale-all.json'), '--only', 'nat-stale-endpoint', '-o', 'json'])
    expect(r.status).toBe(1)
    const doc = JSON.parse(r.stdout) as {findings: {check: string; node: string; message: string; evidence: {source: string; text: string}[]}[]}
    expect(doc.findings.map((f) => [f.node, f.message])).toEqual([['node-1', 'default/web-np:http (tcp) DNATs to 10.244.2.99:8080, which is not a ready endpoint']])
    expect(doc.findings[0]?.evidence.map((e) => e.text)).toEqual([
      '-a -t 10.96.0.81:80 -r 10.244.2.99:8080 -m -w 1',
      '-a -t 10.100.0.2:30080 -r 10.244.2.99:8080 -m -w 1',
      '-a -t 10.244.1.1:30080 -r 10.244.2.99:8080 -m -w 1',
      'ready: 10.244.1.2:8080, 10.244.1.3:8080, 10.244.2.2:8080, 10.244.2.3:8080',
    ])
  })
})
