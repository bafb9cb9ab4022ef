/**
 * One ptp lab (kindnet's layout: no bridge, a routed veth and a /32 route per pod; 2 nodes × 2
 * pods) for the lab's probes, `knet trace` and `knet doctor`: every fault that applies to ptp is
 * broken once (test/lib/lab/lab-faults-suite.ts, expectations in fault-cases.ts), including
 * missing-pod-route; the bridge faults are refused with their reason. Root only.
 */
import {expect, it} from 'vitest'
import {knetAsync as knet} from '../helpers/cli.js'
import {assertNothingLeft} from '../lib/lab/lab-harness.js'
import {labFaultsSuite} from '../lib/lab/lab-faults-suite.js'

labFaultsSuite({
  topology: 'ptp',
  tag: 'tfp',
  more: (lab) => {
    it('bridge faults are refused on ptp with their reason; --list says which topologies a fault does not apply to', async () => {
      const {name, root, env} = lab
      const refused = await knet(['lab', 'break', 'bridge-down', '--name', name], {env})
      expect([refused.status, refused.stderr]).toEqual([2, `knet: bridge-down does not apply to a ptp lab: no pod bridge: each pod has its own routed veth (see veth-detached, which downs one)\n`])
      const list = await knet(['lab', 'break', '--list', '--json'], {env})
      const faults = (JSON.parse(list.stdout) as {faults: {id: string; notFor?: Record<string, string>}[]}).faults
      expect(faults.filter((f) => f.notFor?.ptp).map((f) => f.id)).toEqual(['docker0-overlap', 'cidr-overlap', 'bridge-nf-off', 'bridge-down', 'proxy-arp-off', 'missing-fdb'])
      expect(faults.filter((f) => f.notFor?.['host-gw']).map((f) => f.id)).toEqual(['missing-pod-route', 'proxy-arp-off', 'missing-fdb'])
      expect((await knet(['lab', 'down', '--name', name], {env})).status).toBe(0)
      await assertNothingLeft(name, root, lab.linksBefore)
    }, 600_000)
  },
})
