/** Before a real lab is built: the binaries are there, and the topology is one the real programs make. */
import {badInput} from '../../report/errors.js'
import type {LabPlan} from '../plan.js'
import {assertBinaries} from './binaries.js'
import type {RealLabOptions} from './lab-up.js'

/** flannel's backends among the lab's topologies, and ptp (the ptp plugin, with flanneld's host-gw routes between nodes). */
export const REAL_TOPOLOGIES = ['host-gw', 'vxlan', 'ptp'] as const

export async function assertRealLab(plan: LabPlan, k8s: RealLabOptions): Promise<void> {
  if (!(REAL_TOPOLOGIES as readonly string[]).includes(plan.params.topology)) {
    throw badInput(`--kubernetes builds ${REAL_TOPOLOGIES.join(', ')} (flannel's backends and the ptp plugin); not ${plan.params.topology}`)
  }
  await assertBinaries(k8s.dir)
}
