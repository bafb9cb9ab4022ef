/**
 * Prediction vs the kernel for kube-proxy's nftables mode: its ruleset (v1.36 layout) is loaded with
 * `nft -f` into a namespace set up as a node (a client pod and endpoint pods behind veths), next to
 * iptables-nft rules sharing the hooks; real connections go to the ClusterIP, and the endpoints that
 * answer must be those the evaluator predicts from the node's own `nft -j list ruleset` and
 * iptables-save. A Service without endpoints must be refused, as predicted.
 */
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {promisify} from 'node:util'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {serviceNatNode} from '../../../../src/lib/datapath/nftables/pipeline.js'
import {kubeProxyNftRules} from '../../../../src/lib/lab/kube-proxy-nft-rules.js'
import type {KubeProxyModel} from '../../../../src/lib/lab/kube-proxy-rules.js'
import {parseIptablesSave} from '../../../../src/lib/parse/iptables-save.js'
import {parseNftJson} from '../../../../src/lib/parse/nft.js'
import {describeNetns, TestNetns} from '../../../helpers/netns.js'
import {waitFor} from '../../../helpers/wait.js'

const execFileAsync = promisify(execFile)

const ENDPOINTS = ['10.244.2.11', '10.244.2.12', '10.244.2.13']
const model: KubeProxyModel = {
  clusterCIDR: '10.244.0.0/16',
  nodeName: 'node-1',
  services: [
    {namespace: 'lab', name: 'echo', clusterIP: '10.96.0.50', ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30050}], endpoints: ENDPOINTS.map((ip) => ({ip, nodeName: 'node-1'}))},
    {namespace: 'lab', name: 'empty', clusterIP: '10.96.0.60', ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080}], endpoints: []},
  ],
}

/** iptables-nft rules in the same hooks (a CNI's filter and nat rules), to interleave with kube-proxy's table. */
const IPTABLES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -s 10.244.0.0/16 -m comment --comment "cni: pod traffic" -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -m comment --comment "cni: masquerade pods to the outside" -j MASQUERADE
COMMIT
`

describeNetns('kube-proxy nftables mode: evaluator against the kernel', () => {
  let node: TestNetns
  let client: TestNetns
  let pods: TestNetns
  const servers: ChildProcess[] = []
  const tag = process.pid % 100000
  const toClient = `kfc${tag}`
  const toPods = `kfp${tag}`
  const uplink = `kfu${tag}`

  beforeAll(async () => {
    node = TestNetns.create('nftn')
    client = TestNetns.create('nftc')
    pods = TestNetns.create('nftp')
    node.run(['ip', 'link', 'add', toClient, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name])
    node.run(['ip', 'link', 'add', toPods, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pods.name])
    node.run(['ip', 'addr', 'add', '10.244.1.1/24', 'dev', toClient])
    node.run(['ip', 'addr', 'add', '10.244.2.1/24', 'dev', toPods])
    for (const dev of [toClient, toPods]) node.run(['ip', 'link', 'set', dev, 'up'])
    node.run(['ip', 'link', 'add', uplink, 'type', 'veth', 'peer', 'name', `${uplink}p`])
    node.run(['ip', 'addr', 'add', '192.168.1.10/24', 'dev', uplink])
    for (const dev of [uplink, `${uplink}p`]) node.run(['ip', 'link', 'set', dev, 'up'])
    node.run(['ip', 'route', 'add', 'default', 'dev', uplink])
    node.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    client.run(['ip', 'addr', 'add', '10.244.1.5/24', 'dev', 'eth0'])
    client.run(['ip', 'link', 'set', 'eth0', 'up'])
    client.run(['ip', 'route', 'add', 'default', 'via', '10.244.1.1'])
    for (const ip of ENDPOINTS) pods.run(['ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0'])
    pods.run(['ip', 'link', 'set', 'eth0', 'up'])
    pods.run(['ip', 'route', 'add', 'default', 'via', '10.244.2.1'])
    node.run(['iptables-restore'], IPTABLES)
    node.run(['nft', '-f', '-'], kubeProxyNftRules(model, {nodeIPs: ['192.168.1.10']}))
    ENDPOINTS.forEach((ip, i) => {
      const child = spawn('ip', ['netns', 'exec', pods.name, 'socat', `TCP-LISTEN:8080,bind=${ip},reuseaddr,fork`, `SYSTEM:echo ep${i}`], {stdio: 'ignore'})
      child.on('error', () => undefined)
      servers.push(child)
    })
    await waitFor('every endpoint to listen on 8080', () => {
      const listening = pods.run(['ss', '-Hltn'])
      return ENDPOINTS.every((ip) => listening.includes(`${ip}:8080`))
    })
  })

  afterAll(() => {
    for (const s of servers) if (s.exitCode === null) s.kill()
    node?.destroy()
    client?.destroy()
    pods?.destroy()
  })

  const predict = (dst: string, dport = 80): ReturnType<typeof serviceNatNode> => {
    const nft = parseNftJson(node.run(['nft', '-j', 'list', 'ruleset']))
    const ipt = parseIptablesSave(node.run(['iptables-save']))
    expect([nft.problems, ipt.problems]).toEqual([[], []])
    const ctx = {localAddresses: new Set(['10.244.1.1', '10.244.2.1', '192.168.1.10'])}
    const route = (p: {dst: string}) => (ctx.localAddresses.has(p.dst) ? {local: true as const} : p.dst.startsWith('10.244.2.') ? toPods : uplink)
    return serviceNatNode({nft: nft.value, iptables: ipt.value}, {family: 4, src: '10.244.1.5', dst, protocol: 'tcp', dport, sport: 40000, inIface: toClient, mark: 0, ctstate: 'NEW'}, ctx, {route})
  }

  it('the endpoints that answer the ClusterIP are the DNAT set the evaluator predicts, each 1/3', async () => {
    const predicted = predict('10.96.0.50')
    expect(predicted.dnat.map((d) => [d.ip, d.port, Math.round(d.probability * 1000) / 1000, d.verdict, d.masquerade])).toEqual(ENDPOINTS.map((ip) => [ip, 8080, 0.333, 'ACCEPT', false]))
    // The DNAT hop names the nft rule: table, chain, handle and its text.
    const dnat = predicted.dnat[0]?.trail.find((t) => t.effect.startsWith('DNAT'))
    expect(dnat).toMatchObject({table: 'kube-proxy', chain: expect.stringMatching(/^service-[A-Z2-7]{8}-lab\/echo\/tcp\/http$/), nft: {family: 'ip'}})
    expect(dnat?.raw).toBe('meta l4proto tcp dnat ip addr . port to numgen random mod 3 map { 0 : 10.244.2.11 . 8080, 1 : 10.244.2.12 . 8080, 2 : 10.244.2.13 . 8080 }')
    // iptables' filter FORWARD (prio 0) ran after kube-proxy's filter-forward (prio 0, registered later: iptables first).
    expect(predicted.dnat[0]?.trail.map((t) => t.chain)).toContain('FORWARD')
    // Real connections until every endpoint has answered (at most 60): numgen picks at random, and
    // on a loaded machine a connection may time out — that is no answer, not endpoint 0.
    // Asynchronous, so the worker's event loop keeps turning while the packets fly.
    const answered = new Set<string>()
    for (let k = 0; k < 60 && answered.size < ENDPOINTS.length; k++) {
      const r = await execFileAsync('ip', ['netns', 'exec', client.name, 'socat', '-T', '5', '-', 'TCP:10.96.0.50:80,connect-timeout=5'], {encoding: 'utf8', timeout: 15_000}).catch(() => ({stdout: ''}))
      const name = r.stdout.trim()
      if (/^ep\d+$/.test(name)) answered.add(name)
    }
    const who = [...answered].map((name) => ENDPOINTS[Number(name.replace('ep', ''))] as string)
    for (const ip of who) expect(predicted.dnat.map((d) => d.ip)).toContain(ip)
    expect(who.sort()).toEqual(ENDPOINTS)
  })

  it('the NodePort on the node address is DNATed to the same endpoints and masqueraded', () => {
    const predicted = predict('192.168.1.10', 30050)
    expect(predicted.dnat.map((d) => [d.ip, d.masquerade])).toEqual(ENDPOINTS.map((ip) => [ip, true]))
    const reply = client.run(['socat', '-T', '3', '-', 'TCP:192.168.1.10:30050,connect-timeout=3'], '').trim()
    expect(reply).toMatch(/^ep[0-2]$/)
  })

  it('the Service without endpoints is refused, as the evaluator predicts (reject-chain)', () => {
    const predicted = predict('10.96.0.60')
    expect(predicted.dnat).toEqual([])
    expect(predicted.rejected).toMatchObject({rejectWith: 'icmp-port-unreachable', probability: 1})
    expect(predicted.rejected?.rule).toMatchObject({table: 'kube-proxy', chain: 'reject-chain', raw: 'reject'})
    const r = client.tryRun(['socat', '-T', '3', '-', 'TCP:10.96.0.60:80,connect-timeout=3'])
    expect(r.status).not.toBe(0)
    expect(r.stderr, r.stderr).toMatch(/Connection refused/)
  })
}, ['nft', 'iptables-restore', 'iptables-save', 'socat', 'ss', 'sysctl'])
