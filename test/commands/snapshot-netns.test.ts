/**
 * Issue 2's end-to-end criterion: build real datapath state in a namespace, capture it with
 * `knet snapshot --node-access netns`, and check that the parsed view holds every route, rule,
 * link, bridge port, FDB entry, neighbour, iptables rule and conntrack flow that was created.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {buildNodeDatapath, type NodeDatapath} from '../../src/lib/model/node.js'
import {readSnapshot} from '../../src/lib/snapshot/read.js'
import {knetAsync, type CliResult} from '../helpers/cli.js'
import {describeNetns, TestNetns} from '../helpers/netns.js'

const IPTABLES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-SEP-AAAAAAAAAAAAAAAA - [0:0]
:KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-CCCCCCCCCCCCCCCC - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SEP-AAAAAAAAAAAAAAAA -s 10.244.1.2/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-AAAAAAAAAAAAAAAA -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.2:8080
-A KUBE-SEP-BBBBBBBBBBBBBBBB -s 10.244.2.2/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.2:8080
-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-CCCCCCCCCCCCCCCC
-A KUBE-SVC-CCCCCCCCCCCCCCCC ! -s 10.244.0.0/16 -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-CCCCCCCCCCCCCCCC -m comment --comment "default/web:http -> 10.244.1.2:8080" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-AAAAAAAAAAAAAAAA
-A KUBE-SVC-CCCCCCCCCCCCCCCC -m comment --comment "default/web:http -> 10.244.2.2:8080" -j KUBE-SEP-BBBBBBBBBBBBBBBB
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FORWARD - [0:0]
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
COMMIT
`

describeNetns('knet snapshot --node-access netns round-trips real node state', () => {
  let node: TestNetns
  let pod: TestNetns
  let router: TestNetns
  let dir: string
  let dp: NodeDatapath
  let cli: CliResult

  beforeAll(async () => {
    node = TestNetns.create('rt-node')
    pod = TestNetns.create('rt-pod')
    router = TestNetns.create('rt-router')
    dir = mkdtempSync(join(tmpdir(), 'knet-snap-'))
    // Underlay: node eth0 10.100.0.2/24 <-> router 10.100.0.1/24.
    node.run(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'r-n1', 'netns', router.name])
    node.run(['ip', 'addr', 'add', '10.100.0.2/24', 'dev', 'eth0'])
    node.run(['ip', '-6', 'addr', 'add', 'fd00:10:100::2/64', 'dev', 'eth0', 'nodad'])
    node.run(['ip', 'link', 'set', 'eth0', 'up'])
    router.run(['ip', 'addr', 'add', '10.100.0.1/24', 'dev', 'r-n1'])
    router.run(['ip', 'link', 'set', 'r-n1', 'up'])
    // Pod network: bridge cbr0 owns 10.244.1.0/24; the pod's eth0 is the far end of veth1.
    node.run(['ip', 'link', 'add', 'cbr0', 'type', 'bridge'])
    node.run(['ip', 'addr', 'add', '10.244.1.1/24', 'dev', 'cbr0'])
    node.run(['ip', 'link', 'set', 'cbr0', 'up'])
    node.run(['ip', 'link', 'add', 'veth1', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.name])
    node.run(['ip', 'link', 'set', 'veth1', 'master', 'cbr0'])
    node.run(['ip', 'link', 'set', 'veth1', 'up'])
    pod.run(['ip', 'addr', 'add', '10.244.1.2/24', 'dev', 'eth0'])
    pod.run(['ip', 'link', 'set', 'eth0', 'up'])
    pod.run(['ip', 'route', 'add', 'default', 'via', '10.244.1.1'])
    // Flannel-style VXLAN to a remote node 10.100.0.3 owning 10.244.2.0/24.
    node.run(['ip', 'link', 'add', 'flannel.1', 'type', 'vxlan', 'id', '1', 'local', '10.100.0.2', 'dev', 'eth0', 'dstport', '8472', 'nolearning'])
    node.run(['ip', 'link', 'set', 'flannel.1', 'mtu', '1450', 'up'])
    node.run(['ip', 'addr', 'add', '10.244.1.0/32', 'dev', 'flannel.1'])
    node.run(['ip', 'neigh', 'add', '10.244.2.0', 'lladdr', '5a:1b:2c:3d:4e:5f', 'dev', 'flannel.1', 'nud', 'permanent'])
    node.run(['bridge', 'fdb', 'append', '5a:1b:2c:3d:4e:5f', 'dev', 'flannel.1', 'dst', '10.100.0.3'])
    node.run(['ip', 'route', 'add', '10.244.2.0/24', 'via', '10.244.2.0', 'dev', 'flannel.1', 'onlink'])
    // host-gw route, a blackhole, an unreachable, policy routing into table 100, an IPv6 route.
    node.run(['ip', 'route', 'add', '10.244.3.0/24', 'via', '10.100.0.4', 'dev', 'eth0'])
    node.run(['ip', 'route', 'add', 'blackhole', '10.244.9.0/24'])
    node.run(['ip', 'route', 'add', 'unreachable', '10.244.8.0/24'])
    node.run(['ip', 'route', 'add', 'default', 'via', '10.100.0.1', 'dev', 'eth0', 'table', '100'])
    node.run(['ip', 'rule', 'add', 'fwmark', '0x4000/0x4000', 'lookup', '100', 'priority', '1000'])
    node.run(['ip', 'rule', 'add', 'from', '10.244.1.0/24', 'to', '10.96.0.0/12', 'lookup', '100', 'priority', '1001'])
    node.run(['ip', '-6', 'route', 'add', 'fd00:244:2::/64', 'via', 'fd00:10:100::3', 'dev', 'eth0'])
    node.run(['tee', '/proc/sys/net/ipv4/ip_forward'], '1')
    node.run(['iptables-restore'], IPTABLES)
    // Real flows through the node's conntrack: ICMP and UDP from the pod to the node's bridge IP.
    pod.run(['ping', '-c', '1', '-W', '1', '10.244.1.1'])
    pod.tryRun(['nc', '-u', '-w', '1', '-z', '10.244.1.1', '5353'])

    const out = join(dir, 'snap.json.gz')
    cli = await knetAsync(['snapshot', '--node-access', 'netns', '--netns-map', `node-1=${node.name}`, '--no-cluster', '-o', out, '--json'])
    const snap = await readSnapshot(out)
    const evidence = snap.nodes[0]
    if (!evidence) throw new Error(`no node evidence; stderr: ${cli.stderr}`)
    dp = buildNodeDatapath(evidence)
  })

  afterAll(() => {
    for (const ns of [pod, node, router]) ns?.destroy()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('exits 0 with a JSON summary naming the node and what it lacks', () => {
    expect(cli.stderr).toBe('')
    expect(cli.status).toBe(0)
    const summary = JSON.parse(cli.stdout) as {schemaVersion: number; nodes: {name: string; access: string; failed: string[]}[]}
    expect(summary.schemaVersion).toBe(1)
    expect(summary.nodes).toHaveLength(1)
    expect(summary.nodes[0]?.name).toBe('node-1')
    expect(summary.nodes[0]?.access).toBe(`netns:${node.name}`)
    expect(summary.nodes[0]?.failed).toEqual([])
  })

  it('has no parse problems on real output', () => {
    expect(dp.problems).toEqual([])
  })

  it('round-trips links: bridge, veth on the bridge with its peer in another netns, vxlan', () => {
    const links = new Map(dp.links?.map((l) => [l.ifname, l]))
    expect(links.get('cbr0')?.kind).toBe('bridge')
    expect(links.get('veth1')).toMatchObject({kind: 'veth', master: 'cbr0'})
    expect(links.get('veth1')?.linkNetnsid).toBeTypeOf('number')
    expect(links.get('flannel.1')).toMatchObject({kind: 'vxlan', mtu: 1450, vxlan: {id: 1, port: 8472, local: '10.100.0.2', dev: 'eth0', learning: false}})
    expect(links.get('eth0')?.kind).toBe('veth')
  })

  it('round-trips addresses', () => {
    const addrs = new Map(dp.addrs?.map((a) => [a.ifname, a.addrs.map((x) => `${x.local}/${x.prefixlen}`)]))
    expect(addrs.get('cbr0')).toContain('10.244.1.1/24')
    expect(addrs.get('flannel.1')).toContain('10.244.1.0/32')
    expect(addrs.get('eth0')).toEqual(expect.arrayContaining(['10.100.0.2/24', 'fd00:10:100::2/64']))
  })

  it('round-trips every route it created, in the right table and type', () => {
    const find = (dst: string, table = 'main') => dp.routes4?.find((r) => r.dst === dst && r.table === table)
    expect(find('10.244.2.0/24')).toMatchObject({type: 'unicast', gateway: '10.244.2.0', dev: 'flannel.1'})
    expect(find('10.244.2.0/24')?.flags).toContain('onlink')
    expect(find('10.244.3.0/24')).toMatchObject({type: 'unicast', gateway: '10.100.0.4', dev: 'eth0'})
    expect(find('10.244.9.0/24')?.type).toBe('blackhole')
    expect(find('10.244.8.0/24')?.type).toBe('unreachable')
    expect(find('0.0.0.0/0', '100')).toMatchObject({gateway: '10.100.0.1', dev: 'eth0'})
    expect(find('10.244.1.0/24')).toMatchObject({dev: 'cbr0', prefsrc: '10.244.1.1'})
    expect(dp.routes6?.find((r) => r.dst === 'fd00:244:2::/64')).toMatchObject({gateway: 'fd00:10:100::3', dev: 'eth0', table: 'main'})
  })

  it('round-trips policy rules', () => {
    const r1000 = dp.rules4?.find((r) => r.priority === 1000)
    expect(r1000).toMatchObject({table: '100', fwmark: 0x4000, fwmask: 0x4000})
    const r1001 = dp.rules4?.find((r) => r.priority === 1001)
    expect(r1001).toMatchObject({table: '100', src: '10.244.1.0/24', dst: '10.96.0.0/12'})
  })

  it('round-trips the bridge port, the VXLAN FDB entry and the permanent neighbour', () => {
    expect(dp.bridgePorts?.find((p) => p.ifname === 'veth1')).toMatchObject({master: 'cbr0'})
    expect(dp.fdb?.find((f) => f.mac === '5a:1b:2c:3d:4e:5f' && f.dst === '10.100.0.3')).toMatchObject({ifname: 'flannel.1'})
    expect(dp.neighbours?.find((n) => n.dst === '10.244.2.0')).toMatchObject({dev: 'flannel.1', lladdr: '5a:1b:2c:3d:4e:5f'})
    expect(dp.neighbours?.find((n) => n.dst === '10.244.2.0')?.state).toContain('PERMANENT')
  })

  it('round-trips every iptables rule, chain and policy', () => {
    const nat = dp.iptables4?.tables.find((t) => t.name === 'nat')
    const filter = dp.iptables4?.tables.find((t) => t.name === 'filter')
    const expected = IPTABLES.split('\n').filter((l) => l.startsWith('-A '))
    const seen = [...(nat?.chains ?? []), ...(filter?.chains ?? [])].flatMap((c) => c.rules.map((r) => r.raw))
    for (const line of expected) expect(seen).toContain(line)
    expect(filter?.chainIndex.get('FORWARD')?.policy).toBe('DROP')
    expect(nat?.chainIndex.get('KUBE-SERVICES')?.policy).toBeNull()
    const dnat = nat?.chainIndex.get('KUBE-SEP-AAAAAAAAAAAAAAAA')?.rules[1]?.target
    expect(dnat).toMatchObject({kind: 'dnat', verb: 'jump', name: 'DNAT', to: {addrFrom: '10.244.1.2', ports: {from: 8080, to: 8080}}})
  })

  it('records conntrack entries from the real flows and the sysctls', () => {
    const icmp = dp.conntrack4?.find((e) => e.protocol === 'icmp' && e.original.src === '10.244.1.2' && e.original.dst === '10.244.1.1')
    expect(icmp).toBeDefined()
    const ipForward = dp.sysctls?.find((s) => s.key === 'net.ipv4.ip_forward')
    expect(ipForward?.value).toBe('1')
    expect(dp.rpFilter?.some((s) => s.key === 'net.ipv4.conf.cbr0.rp_filter')).toBe(true)
  })

  it('keeps unavailable evidence distinct from empty evidence', () => {
    // IPVS is not in every kernel (not in CI's): then it is "unavailable", never an empty table.
    if (dp.evidence.ipvsadm?.status === 'unavailable') expect(dp.ipvs).toBeUndefined()
    expect(dp.evidence['iptables-save']?.status).toBe('ok')
    expect(dp.evidence.links?.source).toBe('node-1: ip -j -d link show')
  })
}, ['bridge', 'iptables-restore', 'conntrack', 'ping', 'nc'])
