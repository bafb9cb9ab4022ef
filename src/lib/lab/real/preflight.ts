/** Before a real lab is built: the binaries are there, and the topology is one flannel runs. */
import {badInput} from '../../report/errors.js'
import type {LabPlan} from '../plan.js'
import {assertBinaries} from './binaries.js'
import type {RealLabOptions} from './lab-up.js'

/** flannel's backends among the lab's topologies. */
export const REAL_TOPOLOGIES = ['host-gw', 'vxlan'] as const

export async function assertRealLab(plan: LabPlan, k8s: RealLabOptions): Promise<void> {
  if (!(REAL_TOPOLOGIES as readonly string[]).includes(plan.params.topology)) {
    throw badInput(`--kubernetes runs flannel, whose backends here are ${REAL_TOPOLOGIES.join(' and ')}; not ${plan.params.topology}`)
  }
  await assertBinaries(k8s.dir)
}
