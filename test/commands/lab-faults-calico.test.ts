/**
 * One calico-vxlan lab (Calico's layout: a /26 IPAM block per node with its blackhole, cali* veths
 * answering ARP for 169.254.1.1 by proxy, /32 routes, vxlan.calico with onlink routes and permanent
 * neighbour and FDB entries; 2 nodes × 2 pods) for the lab's probes, `knet trace` and `knet doctor`:
 * every fault that applies is broken once (test/lib/lab/lab-faults-suite.ts, expectations in
 * fault-cases.ts), including proxy-arp-off and missing-fdb; the bridge faults are refused. Root only.
 */
import {expect, it} from 'vitest'
import {knetAsync as knet} from '../helpers/cli.js'
import {assertNothingLeft} from '../lib/lab/lab-harness.js'
import {labFaultsSuite} from '../lib/lab/lab-faults-suite.js'

labFaultsSuite({
  topology: 'calico-vxlan',
  tag: 'tfc',
  more: (lab) => {
    it('bridge faults are refused on calico-vxlan with their reason', async () => {
      const {name, root, env} = lab
      const refused = await knet(['lab', 'break', 'bridge-down', '--name', name], {env})
      expect([refused.status, refused.stderr]).toEqual([2, `knet: bridge-down does not apply to a calico-vxlan lab: no pod bridge: each pod has its own routed cali* veth (see veth-detached, which downs one)\n`])
      expect((await knet(['lab', 'down', '--name', name], {env})).status).toBe(0)
      await assertNothingLeft(name, root, lab.linksBefore)
    }, 120_000)
  },
})
