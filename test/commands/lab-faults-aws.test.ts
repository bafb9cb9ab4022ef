/**
 * One aws-vpc lab (the AWS VPC CNI's layout: pods are addresses of the VPC subnet on eni* veths,
 * a /32 route and a "512: to POD lookup main" rule per pod, a secondary ENI eth1 with its own
 * table and "1536: from POD lookup 2" for its pods, no overlay; 2 nodes × 2 pods) for the lab's
 * probes, `knet trace` and `knet doctor`: same-node, cross-node (on-link and through the VPC's
 * gateway), pod → Service and NodePort traces agree with real packets, and every fault that applies
 * — the generic ones (stale-nat, missing-nat, ip-forward-off, forward-drop, veth-detached,
 * mtu-mismatch, netpol-deny, stale-conntrack) and its own (missing-pod-route, missing-pod-rule) — is
 * broken once (test/lib/lab/lab-faults-suite.ts, expectations in fault-cases.ts); the bridge and
 * overlay faults are refused. Root only.
 */
import {expect, it} from 'vitest'
import {knetAsync as knet} from '../helpers/cli.js'
import {assertNothingLeft} from '../lib/lab/lab-harness.js'
import {labFaultsSuite} from '../lib/lab/lab-faults-suite.js'

labFaultsSuite({
  topology: 'aws-vpc',
  tag: 'tfa',
  doctorViaCli: 'missing-pod-rule',
  more: (lab) => {
    it('bridge, overlay and pod-CIDR route faults are refused on aws-vpc with their reason', async () => {
      const {name, root, env} = lab
      const refused = await knet(['lab', 'break', 'missing-route', '--name', name], {env})
      expect([refused.status, refused.stderr]).toEqual([2, `knet: missing-route does not apply to a aws-vpc lab: no route to another node's pods: they are addresses of the VPC subnet, which the VPC delivers (see missing-pod-rule and missing-pod-route)\n`])
      const list = await knet(['lab', 'break', '--list', '--json'], {env})
      const faults = (JSON.parse(list.stdout) as {faults: {id: string; notFor?: Record<string, string>}[]}).faults
      expect(faults.filter((f) => f.notFor?.['aws-vpc']).map((f) => f.id)).toEqual(['missing-route', 'stale-route', 'docker0-overlap', 'cidr-overlap', 'bridge-nf-off', 'bridge-down', 'proxy-arp-off', 'missing-fdb'])
      expect((await knet(['lab', 'down', '--name', name], {env})).status).toBe(0)
      await assertNothingLeft(name, root, lab.linksBefore)
    }, 600_000)
  },
})
