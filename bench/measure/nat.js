/**
 * One NAT measurement, in a fresh process on the compiled code (dist), as `knet doctor` would run:
 *   node bench/measure/nat.js DIR DUMP           doctor + trace: parse, doctor's NAT checks, a trace
 *   node bench/measure/nat.js DIR DUMP trace     trace alone: parse, a trace (what `knet trace` does with the dump)
 * Times what knet does with one node's iptables-save text: parse it (the node datapath), doctor's
 * checks that read it (kube-proxy NAT against the EndpointSlices, FORWARD policy, kube-proxy mode;
 * not in `trace` mode), and a trace of one connection to a Service through the netfilter evaluator.
 * The cluster model is built before the clock starts: it is the cluster benchmark's work, shared by
 * every node. Prints one JSON line (see node-run.js).
 */
import {readFileSync} from 'node:fs'
import {CHECKS} from '../../dist/lib/checks/registry.js'
import {serviceNat} from '../../dist/lib/datapath/netfilter/service-nat.js'
import {commandResult, loadCase, measureNode, tracedPacket} from './node-run.js'

const [dir, dumpFile, mode = 'doctor'] = process.argv.slice(2)
const run = loadCase(dir)
const results = [commandResult('iptables-save', ['iptables-save'], readFileSync(dumpFile, 'utf8'))]
const checks = mode === 'trace' ? null : CHECKS.filter((c) => c.requires.includes('node:iptables-save'))
measureNode(run, results, checks, (node) => serviceNat(node.iptables4, tracedPacket(run.meta), {localAddresses: new Set([run.meta.nodeIP])}))
