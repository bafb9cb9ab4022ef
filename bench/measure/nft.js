/**
 * One nftables-mode measurement (issue 15), in a fresh process on the compiled code (dist):
 *   node bench/measure/nft.js DIR CHAINS TABLE trace    parse + a trace (what `knet trace` does)
 *   node bench/measure/nft.js DIR CHAINS TABLE checks   parse + doctor's NAT checks + a trace
 * CHAINS and TABLE are what knet gathers on such a node: `nft -j list chains` and
 * `nft -j list table ip kube-proxy`. The node's evidence is built from them as a snapshot holds
 * them; the cluster model is built before the clock starts (the cluster benchmark's work). The
 * trace is one connection from a pod to the last TCP Service with endpoints, through every hook.
 * Prints one JSON line (see node-run.js).
 */
import {readFileSync} from 'node:fs'
import {CHECKS} from '../../dist/lib/checks/registry.js'
import {serviceNatNode} from '../../dist/lib/datapath/nftables/pipeline.js'
import {commandResult, loadCase, measureNode, tracedPacket} from './node-run.js'

const [dir, chainsFile, tableFile, mode = 'checks'] = process.argv.slice(2)
const run = loadCase(dir)
const results = [
  commandResult('nft-chains', ['nft', '-j', 'list', 'chains'], readFileSync(chainsFile, 'utf8')),
  commandResult('nft-table:ip:kube-proxy', ['nft', '-j', 'list', 'table', 'ip', 'kube-proxy'], readFileSync(tableFile, 'utf8')),
]
const checks = mode === 'trace' ? null : CHECKS.filter((c) => ['nat-stale-endpoint', 'nat-missing-service', 'nat-orphan-service'].includes(c.id))
measureNode(run, results, checks, (node) => serviceNatNode({nft: node.nft}, {...tracedPacket(run.meta), sport: 40000}, {localAddresses: new Set([run.meta.nodeIP])}, {route: () => ({local: false, outIface: 'eth0'})}))
