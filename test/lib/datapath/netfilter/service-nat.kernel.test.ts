/**
 * Prediction vs the kernel: a generated kube-proxy dump is loaded into a namespace set up as a node
 * (a client pod and an endpoints pod behind veths), real connections go to the ClusterIP, and the
 * endpoints that answer must be the ones the evaluator predicts from the node's own iptables-save.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {serviceNat} from '../../../../src/lib/datapath/netfilter/service-nat.js'
import {kubeProxyIptablesRules, type KubeProxyModel} from '../../../../src/lib/lab/kube-proxy-rules.js'
import {parseIptablesSave} from '../../../../src/lib/parse/iptables-save.js'
import {describeNetns, TestNetns} from '../../../helpers/netns.js'
import {waitFor} from '../../../helpers/wait.js'

const ENDPOINTS = ['10.244.2.11', '10.244.2.12', '10.244.2.13']
const model: KubeProxyModel = {
  clusterCIDR: '10.244.0.0/16',
  nodeName: 'node-1',
  services: [
    {namespace: 'lab', name: 'echo', clusterIP: '10.96.0.50', ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080}], endpoints: ENDPOINTS.map((ip) => ({ip, nodeName: 'node-1'}))},
    {namespace: 'lab', name: 'empty', clusterIP: '10.96.0.60', ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080}], endpoints: []},
  ],
}

describeNetns('serviceNat against the kernel', () => {
  let node: TestNetns
  let client: TestNetns
  let pods: TestNetns
  const servers: ChildProcess[] = []
  const tag = process.pid % 100000
  const toClient = `knc${tag}`
  const toPods = `knp${tag}`
  const uplink = `knu${tag}`

  beforeAll(async () => {
    node = TestNetns.create('nfn')
    client = TestNetns.create('nfc')
    pods = TestNetns.create('nfp')
    node.run(['ip', 'link', 'add', toClient, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name])
    node.run(['ip', 'link', 'add', toPods, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pods.name])
    node.run(['ip', 'addr', 'add', '10.244.1.1/24', 'dev', toClient])
    node.run(['ip', 'addr', 'add', '10.244.2.1/24', 'dev', toPods])
    for (const dev of [toClient, toPods]) node.run(['ip', 'link', 'set', dev, 'up'])
    // An uplink with a default route, as a node has: without one the node answers "network
    // unreachable" for an unDNATed ClusterIP before the filter table is ever consulted.
    // (A veth whose peer stays in the node: the dummy driver is not always available.)
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
    node.run(['iptables-restore'], kubeProxyIptablesRules(model))
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

  const predict = (dst: string): ReturnType<typeof serviceNat> => {
    const {value, problems} = parseIptablesSave(node.run(['iptables-save']))
    expect(problems).toEqual([])
    const ctx = {localAddresses: new Set(['10.244.1.1', '10.244.2.1', '192.168.1.10'])}
    const route = (p: {dst: string}): string => (p.dst.startsWith('10.244.2.') ? toPods : uplink)
    return serviceNat(value, {family: 4, src: '10.244.1.5', dst, protocol: 'tcp', dport: 80, inIface: toClient, mark: 0, ctstate: 'NEW'}, ctx, {route})
  }

  it('the endpoints that answer the ClusterIP are the DNAT set the evaluator predicts', () => {
    const predicted = predict('10.96.0.50')
    expect(predicted.dnat.map((d) => d.ip).sort()).toEqual(ENDPOINTS)
    expect(predicted.dnat.every((d) => d.verdict === 'ACCEPT' && !d.masquerade)).toBe(true)
    const answered = new Map<string, number>()
    for (let k = 0; k < 30; k++) {
      const reply = client.run(['socat', '-T', '3', '-', 'TCP:10.96.0.50:80,connect-timeout=3'], '').trim()
      answered.set(reply, (answered.get(reply) ?? 0) + 1)
    }
    const who = [...answered.keys()].map((name) => ENDPOINTS[Number(name.replace('ep', ''))])
    // ⊆ always; = with probability 1 - 3·(2/3)^30 ≈ 1 - 1.6e-5.
    for (const ip of who) expect(predicted.dnat.map((d) => d.ip)).toContain(ip)
    expect(who.sort()).toEqual(ENDPOINTS)
  })

  it('the Service without endpoints is refused, as the evaluator predicts (REJECT icmp-port-unreachable)', () => {
    const predicted = predict('10.96.0.60')
    expect(predicted.dnat).toEqual([])
    expect(predicted.rejected).toMatchObject({reason: 'lab/empty:http has no endpoints', rejectWith: 'icmp-port-unreachable', probability: 1})
    const r = client.tryRun(['socat', '-T', '3', '-', 'TCP:10.96.0.60:80,connect-timeout=3'])
    expect(r.status).not.toBe(0)
    // icmp-port-unreachable surfaces as ECONNREFUSED, at once rather than after the timeout.
    expect(r.stderr, r.stderr).toMatch(/Connection refused/)
  })
}, ['iptables-restore', 'iptables-save', 'socat', 'ss', 'sysctl'])
