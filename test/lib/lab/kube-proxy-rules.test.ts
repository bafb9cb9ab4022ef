import {spawn} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {
  endpointChainName, kubeProxyIptablesRules, portProtoHash, serviceChainName, servicePortName, type KubeProxyModel,
} from '../../../src/lib/lab/kube-proxy-rules.js'
import {iptablesTable, parseIptablesSave, type IptablesDump, type IptablesRule} from '../../../src/lib/parse/iptables-save.js'
import {kubeProxyModel} from '../../fixtures/netfilter/build.js'
import {describeNetns, TestNetns} from '../../helpers/netns.js'
import {waitFor} from '../../helpers/wait.js'

const oneService: KubeProxyModel = {
  clusterCIDR: '10.244.0.0/16',
  services: [{
    namespace: 'default', name: 'web', clusterIP: '10.96.0.50',
    ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080}],
    endpoints: [{ip: '10.244.1.5'}, {ip: '10.244.2.6'}],
  }],
}

describe('kube-proxy chain names', () => {
  it('match the names kube-proxy computes', () => {
    // KUBE-SVC-NPX46M4PTMTKRN6Y is the default/kubernetes:https chain on every iptables-mode cluster.
    expect(serviceChainName('KUBE-SVC-', 'default/kubernetes:https', 'tcp')).toBe('KUBE-SVC-NPX46M4PTMTKRN6Y')
    // kube-dns's well-known chains, as seen on kubeadm clusters.
    expect(serviceChainName('KUBE-SVC-', 'kube-system/kube-dns:dns', 'udp')).toBe('KUBE-SVC-TCOU7JCQXEZGVUNU')
    expect(serviceChainName('KUBE-SVC-', 'kube-system/kube-dns:dns-tcp', 'tcp')).toBe('KUBE-SVC-ERIFXISQEP7F7OF4')
    expect(portProtoHash('default/kubernetes:https', 'TCP')).toBe('NPX46M4PTMTKRN6Y')
    expect(endpointChainName('a/b:c', 'tcp', '10.0.0.1:80')).toMatch(/^KUBE-SEP-[A-Z2-7]{16}$/)
    expect(endpointChainName('a/b:c', 'tcp', '10.0.0.1:80')).not.toBe(endpointChainName('a/b:c', 'tcp', '10.0.0.2:80'))
    expect(servicePortName({namespace: 'a', name: 'b'}, {name: ''})).toBe('a/b')
  })
})

describe('kubeProxyIptablesRules', () => {
  it('writes the kube-proxy layout for one service exactly', () => {
    const svc = serviceChainName('KUBE-SVC-', 'default/web:http', 'tcp')
    const sep1 = endpointChainName('default/web:http', 'tcp', '10.244.1.5:8080')
    const sep2 = endpointChainName('default/web:http', 'tcp', '10.244.2.6:8080')
    const nat = kubeProxyIptablesRules(oneService).split('*nat\n')[1]
    expect(nat).toBe(`:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:${svc} - [0:0]
:${sep1} - [0:0]
:${sep2} - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j ${svc}
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A ${svc} ! -s 10.244.0.0/16 -d 10.96.0.50/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KUBE-MARK-MASQ
-A ${svc} -m comment --comment "default/web:http -> 10.244.1.5:8080" -m statistic --mode random --probability 0.5000000000 -j ${sep1}
-A ${svc} -m comment --comment "default/web:http -> 10.244.2.6:8080" -j ${sep2}
-A ${sep1} -s 10.244.1.5/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A ${sep1} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080
-A ${sep2} -s 10.244.2.6/32 -m comment --comment "default/web:http" -j KUBE-MARK-MASQ
-A ${sep2} -p tcp -m comment --comment "default/web:http" -m tcp -j DNAT --to-destination 10.244.2.6:8080
COMMIT
`)
  })

  it('prints probabilities like kube-proxy (%0.10f) and is deterministic', () => {
    const model: KubeProxyModel = {services: [{...oneService.services[0]!, endpoints: ['1', '2', '3', '4'].map((n) => ({ip: `10.244.0.${n}`}))}]}
    const text = kubeProxyIptablesRules(model)
    expect(text.match(/--probability \S+/g)).toEqual(['--probability 0.2500000000', '--probability 0.3333333333', '--probability 0.5000000000'])
    expect(kubeProxyIptablesRules(model)).toBe(text)
    // Without a cluster CIDR there is no "! -s CIDR" masquerade rule.
    expect(text).not.toMatch(/KUBE-SVC-\S+ ! -s/)
  })

  it('uses --nodeport-addresses when node IPs are given, and brackets IPv6 endpoints', () => {
    const text = kubeProxyIptablesRules({
      nodeIPs: ['192.168.1.10'],
      services: [{namespace: 'a', name: 'v6', clusterIP: 'fd00:96::1', ports: [{name: '', port: 80, protocol: 'TCP', targetPort: 8080}], endpoints: [{ip: 'fd00:244::5'}]}],
    })
    expect(text).toContain('-A KUBE-SERVICES -d 192.168.1.10/32 -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS')
    expect(text).toContain('-d fd00:96::1/128 -p tcp -m comment --comment "a/v6 cluster IP"')
    expect(text).toContain('-j DNAT --to-destination [fd00:244::5]:8080')
  })

  it('writes externalTrafficPolicy Local without local endpoints as a filter-table DROP', () => {
    const text = kubeProxyIptablesRules({
      nodeName: 'node-9',
      services: [{
        namespace: 'a', name: 'np', clusterIP: '10.96.0.60', externalTrafficPolicy: 'Local',
        ports: [{name: 'p', port: 80, protocol: 'UDP', targetPort: 8080, nodePort: 31000}], endpoints: [{ip: '10.244.1.1', nodeName: 'node-1'}],
      }],
    })
    expect(text).toContain('-A KUBE-EXTERNAL-SERVICES -p udp -m comment --comment "a/np:p has no local endpoints" -m addrtype --dst-type LOCAL -m udp --dport 31000 -j DROP')
    expect(text).not.toContain('KUBE-EXT-')
    expect(text).not.toContain('-A KUBE-NODEPORTS')
  })

  it('writes a complete 10k-service dump (speed: see bench/)', () => {
    const services = Array.from({length: 10_000}, (_, i) => ({
      namespace: 'bench', name: `s${i}`, clusterIP: `10.96.${i >> 8}.${i & 255}`,
      ports: [{name: 'http', port: 80, protocol: 'TCP' as const, targetPort: 8080}],
      endpoints: [{ip: `10.244.${i >> 8}.${i & 255}`}],
    }))
    const text = kubeProxyIptablesRules({clusterCIDR: '10.244.0.0/16', services})
    expect(text.split('\n').length).toBeGreaterThan(70_000)
    expect(text.match(/^:KUBE-SVC-/gm)).toHaveLength(10_000)
    expect(text.match(/^:KUBE-SEP-/gm)).toHaveLength(10_000)
  })
})

function chainRules(d: IptablesDump, chain: string): IptablesRule[] {
  return iptablesTable(d, 'nat')?.chainIndex.get(chain)?.rules ?? []
}

/** For each ClusterIP rule: the endpoints it DNATs to and the chance of each. */
function clusterIpPaths(d: IptablesDump): Map<string, {dnat: string; chance: number}[]> {
  const out = new Map<string, {dnat: string; chance: number}[]>()
  for (const entry of chainRules(d, 'KUBE-SERVICES')) {
    if (entry.target?.kind !== 'chain' || !entry.target.chain.startsWith('KUBE-SVC-')) continue
    const port = entry.matches.find((m) => m.kind === 'tcp' || m.kind === 'udp')
    const key = `${entry.dst?.cidr}:${port && 'dport' in port ? port.dport?.ranges[0]?.from : '?'}/${entry.protocol?.name}`
    let remaining = 1
    const paths: {dnat: string; chance: number}[] = []
    for (const r of chainRules(d, entry.target.chain)) {
      if (r.target?.kind !== 'chain' || !r.target.chain.startsWith('KUBE-SEP-')) continue
      const st = r.matches.find((m) => m.kind === 'statistic')
      const p = st?.kind === 'statistic' && st.mode === 'random' ? st.probability : 1
      const dnat = chainRules(d, r.target.chain).find((x) => x.target?.kind === 'dnat')?.target
      paths.push({dnat: dnat?.kind === 'dnat' ? `${dnat.to?.addrFrom}:${dnat.to?.ports?.from}` : '?', chance: remaining * p})
      remaining -= remaining * p
    }
    out.set(key, paths)
  }
  return out
}

describeNetns('kubeProxyIptablesRules: loaded into a namespace', () => {
  let node: TestNetns
  let pod: TestNetns
  beforeAll(() => {
    node = TestNetns.create('kpn')
    pod = TestNetns.create('kpp')
  })
  afterAll(() => {
    node?.destroy()
    pod?.destroy()
  })

  it('iptables-restore accepts it; iptables-save reads back the same layout', () => {
    node.run(['iptables-restore'], kubeProxyIptablesRules(kubeProxyModel))
    const {value, problems} = parseIptablesSave(node.run(['iptables-save']))
    expect(problems).toEqual([])
    const paths = clusterIpPaths(value)
    expect([...paths.keys()].sort()).toEqual(['10.96.0.1/32:443/tcp', '10.96.12.34/32:80/tcp'])
    expect(paths.get('10.96.0.1/32:443/tcp')).toEqual([{dnat: '172.18.0.2:6443', chance: 1}])
    const web = paths.get('10.96.12.34/32:80/tcp') ?? []
    expect(web.map((p) => p.dnat)).toEqual(['10.244.1.5:8080', '10.244.2.7:8080', '10.244.2.8:8080'])
    expect(web.reduce((a, p) => a + p.chance, 0)).toBeCloseTo(1, 9)
    for (const p of web) expect(p.chance).toBeCloseTo(1 / 3, 9)
    // Every chain the generator declared exists after the round trip, and no other KUBE-* chain.
    const declared = kubeProxyIptablesRules(kubeProxyModel).split('\n').filter((l) => l.startsWith(':KUBE-')).map((l) => l.slice(1).split(' ')[0])
    const saved = value.tables.flatMap((t) => t.chains.map((c) => c.name)).filter((n) => n.startsWith('KUBE-'))
    expect(saved.sort()).toEqual(declared.sort())
  })

  it('a real TCP connection to the ClusterIP reaches the pod', async () => {
    const a = `kpn${process.pid % 100000}`
    const b = `kpp${process.pid % 100000}`
    node.run(['ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', pod.name])
    node.run(['ip', 'addr', 'add', '10.244.1.1/24', 'dev', a])
    node.run(['ip', 'link', 'set', a, 'up'])
    // Locally generated packets need a route before nat OUTPUT rewrites the destination.
    node.run(['ip', 'route', 'add', '10.96.0.0/12', 'dev', a])
    pod.run(['ip', 'addr', 'add', '10.244.1.5/24', 'dev', b])
    pod.run(['ip', 'link', 'set', b, 'up'])
    pod.run(['ip', 'route', 'add', 'default', 'via', '10.244.1.1'])
    node.run(['iptables-restore'], kubeProxyIptablesRules({
      clusterCIDR: '10.244.0.0/16',
      services: [{namespace: 'lab', name: 'echo', clusterIP: '10.96.0.50', ports: [{name: 'http', port: 80, protocol: 'TCP', targetPort: 8080}], endpoints: [{ip: '10.244.1.5'}]}],
    }))
    const server = spawn('ip', ['netns', 'exec', pod.name, 'socat', 'TCP-LISTEN:8080,reuseaddr', 'SYSTEM:echo pong-from-pod'], {stdio: 'ignore'})
    try {
      await waitFor('the pod to listen on 8080', () => /:8080\b/.test(pod.run(['ss', '-Hltn'])))
      expect(node.run(['socat', '-T', '3', '-', 'TCP:10.96.0.50:80'], '').trim()).toBe('pong-from-pod')
      const ct = node.run(['conntrack', '-L', '-p', 'tcp'])
      expect(ct).toContain('dst=10.96.0.50')
      expect(ct).toContain('src=10.244.1.5')
    } finally {
      server.kill()
    }
  })
}, ['iptables-restore', 'socat', 'ss'])
