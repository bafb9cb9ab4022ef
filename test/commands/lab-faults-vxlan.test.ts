/**
 * One vxlan lab (2 nodes × 2 pods) for the lab's probes, `knet trace` and `knet doctor`: every
 * fault is broken once (test/lib/lab/lab-faults-suite.ts, expectations in fault-cases.ts; cross-node
 * traffic goes through flannel.1). Then mtu-mismatch's heal restores the planned MTUs exactly, and
 * down with a fault applied leaves nothing. Root only.
 */
import {expect, it} from 'vitest'
import {breakFault, healFaults} from '../../src/lib/lab/faults/run.js'
import {knetAsync as knet} from '../helpers/cli.js'
import {pod, probeLine} from '../lib/lab/faults-harness.js'
import {assertNothingLeft, probeAll} from '../lib/lab/lab-harness.js'
import {labFaultsSuite} from '../lib/lab/lab-faults-suite.js'

labFaultsSuite({
  topology: 'vxlan',
  tag: 'tfv',
  more: (lab) => {
    it('mtu-mismatch heal restores the planned MTUs exactly; down with a fault applied leaves nothing', async () => {
      const {name, root, env} = lab
      await breakFault(name, 'mtu-mismatch', {root})
      await healFaults(name, undefined, {root})
      const probes = [pod('web-1-1', 'web-2-1', 'icmp', {size: 1422}), pod('web-1-1', 'web-2-1', 'icmp', {size: 1423})]
      expect((await probeAll(lab.plan, probes)).map(probeLine)).toEqual(['web-1-1 → web-2-1 icmp size 1422: delivered [web-2-1]', 'web-1-1 → web-2-1 icmp size 1423: error []'])
      await breakFault(name, 'stale-route', {root})
      expect((await knet(['lab', 'down', '--name', name], {env})).status).toBe(0)
      await assertNothingLeft(name, root, lab.linksBefore)
    }, 600_000)
  },
})
