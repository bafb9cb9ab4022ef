/**
 * Writes benchmark inputs to a directory; bench/run.js calls it (through tsx) before measuring.
 *   npx tsx bench/generate.ts nat SERVICES ENDPOINTS DIR
 *     DIR/restore.txt   iptables-restore input for one node (kube-proxy's layout)
 *     DIR/cluster.json  the cluster's API objects as ClusterEvidence
 *     DIR/meta.json     the node, the Service to trace, the expected counts
 *   npx tsx bench/generate.ts nft SERVICES ENDPOINTS DIR
 *     DIR/ruleset.nft   `nft -f` input: kube-proxy v1.36's nftables-mode table for the same worker
 *     DIR/cluster.json, DIR/meta.json as for nat
 *   npx tsx bench/generate.ts cluster NODES PODS SERVICES FILE
 *     FILE              a snapshot (plain JSON) of the whole cluster, API objects only
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {clusterEvidence, clusterSnapshot} from './generators/cluster.js'
import {natFixture} from './generators/kube-proxy.js'
import {kubeProxyNftRules} from '../src/lib/lab/kube-proxy-nft-rules.js'

const [what, ...args] = process.argv.slice(2)

if (what === 'nat' || what === 'nft') {
  const [services, endpoints] = args.slice(0, 2).map(Number) as [number, number]
  const dir = args[2] as string
  mkdirSync(dir, {recursive: true})
  const f = natFixture({services, endpoints})
  if (what === 'nft') writeFileSync(join(dir, 'ruleset.nft'), kubeProxyNftRules(f.model, {nodeIPs: ['172.16.0.11']}))
  // Trace the last Service with endpoints: its KUBE-SERVICES rule is last, the worst case for a walk.
  const target = f.model.services.findLast((s) => s.name.startsWith('svc-') && s.endpoints.some((e) => e.ready !== false) && s.ports[0]?.protocol === 'TCP')
  if (what === 'nat') writeFileSync(join(dir, 'restore.txt'), f.restore)
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(clusterEvidence(f.objects)))
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({
      services, endpoints, nodeName: f.nodeName, nodeIP: '172.16.0.11', podIP: '10.128.1.5', bridge: 'cni0',
      target: {service: `${target?.namespace}/${target?.name}`, ip: target?.clusterIP, port: target?.ports[0]?.port, endpoints: target?.endpoints.filter((e) => e.ready !== false).length},
      expected: f.expected, lines: f.restore.split('\n').length, bytes: Buffer.byteLength(f.restore),
    }),
  )
} else if (what === 'cluster') {
  const [nodes, pods, services] = args.slice(0, 3).map(Number) as [number, number, number]
  writeFileSync(args[3] as string, JSON.stringify(clusterSnapshot({nodes, pods, services})))
} else {
  process.stderr.write('usage: generate.ts nat|nft S E DIR | cluster NODES PODS SERVICES FILE\n')
  process.exitCode = 2
}
