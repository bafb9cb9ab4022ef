/**
 * Parse time vs evaluation time for kube-proxy iptables dumps of 1k and 10k Services.
 *   npx tsx bench/netfilter-eval.ts [services...]      (default: 1000 10000; 3 endpoints each)
 * "first" evaluations include compiling the CIDRs of every rule walked (cached on the parsed dump);
 * "warm" is the median of later ones. Issue 8 compares a trace to one Service with the time
 * `iptables-save` takes to print the same dump; this prints the knet side of that comparison.
 */
import {serviceNat} from '../src/lib/datapath/netfilter/service-nat.js'
import {kubeProxyIptablesRules, type ServiceModel} from '../src/lib/lab/kube-proxy-rules.js'
import {parseIptablesSave} from '../src/lib/parse/iptables-save.js'

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0)

function services(n: number): ServiceModel[] {
  return Array.from({length: n}, (_, i) => ({
    namespace: 'bench', name: `s${i}`, clusterIP: `10.96.${i >> 8}.${i & 255}`,
    ports: [{name: 'http', port: 80, protocol: 'TCP' as const, targetPort: 8080, nodePort: 30000 + (i % 2000)}],
    endpoints: [0, 1, 2].map((k) => ({ip: `10.${244 + k}.${i >> 8}.${i & 255}`, nodeName: `node-${k}`})),
  }))
}

const ms = (t: number): string => `${t.toFixed(1)} ms`

for (const n of sizes.length ? sizes : [1000, 10_000]) {
  const text = kubeProxyIptablesRules({clusterCIDR: '10.244.0.0/14', nodeName: 'node-0', services: services(n)})
  let t = performance.now()
  const dump = parseIptablesSave(text).value
  const parseMs = performance.now() - t
  const ctx = {localAddresses: new Set(['192.168.1.10', '10.244.0.1'])}
  // The last Service: its rule is at the end of KUBE-SERVICES, the worst case for a linear walk.
  const target = n - 1
  const packet = {family: 4 as const, src: '10.244.0.5', dst: `10.96.${target >> 8}.${target & 255}`, protocol: 'tcp' as const, dport: 80, inIface: 'cbr0', mark: 0, ctstate: 'NEW' as const}
  t = performance.now()
  const first = serviceNat(dump, packet, ctx)
  const firstMs = performance.now() - t
  const warm: number[] = []
  for (let k = 0; k < 20; k++) {
    const i = (k * 7919) % n
    t = performance.now()
    serviceNat(dump, {...packet, dst: `10.96.${i >> 8}.${i & 255}`}, ctx)
    warm.push(performance.now() - t)
  }
  warm.sort((a, b) => a - b)
  const lines = text.split('\n').length
  console.log(`${n} services (${lines} lines, ${(text.length / 1e6).toFixed(1)} MB): parse ${ms(parseMs)}; serviceNat first ${ms(firstMs)}, warm median ${ms(warm[10] ?? 0)}; endpoints ${first.dnat.length}, Σp ${first.dnat.reduce((a, d) => a + d.probability, 0).toFixed(9)}`)
}
