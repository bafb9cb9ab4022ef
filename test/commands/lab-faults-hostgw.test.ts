/**
 * One host-gw lab (2 nodes × 2 pods) for the lab's probes, `knet trace` and `knet doctor`: every
 * fault is broken once (test/lib/lab/lab-faults-suite.ts, expectations in fault-cases.ts). Then the
 * fault CLI: the faults that change the API objects, --list, break twice, unknown fault, heal all,
 * and down with faults still applied. Root only.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect, it} from 'vitest'
import {FAULTS} from '../../src/lib/lab/faults/registry.js'
import {breakFault, healFaults} from '../../src/lib/lab/faults/run.js'
import {knetAsync as knet} from '../helpers/cli.js'
import {BASELINE, probeLine} from '../lib/lab/faults-harness.js'
import {assertNothingLeft, probeAll} from '../lib/lab/lab-harness.js'
import {labFaultsSuite, type SuiteLab} from '../lib/lab/lab-faults-suite.js'

async function expectBaseline(lab: SuiteLab): Promise<void> {
  expect((await probeAll(lab.plan, BASELINE.map(([r]) => r))).map(probeLine)).toEqual(BASELINE.map(([, l]) => l))
}

labFaultsSuite({
  topology: 'host-gw',
  tag: 'tfh',
  doctorViaCli: 'cidr-overlap',
  more: (lab) => {
    it('netpol-deny and stale-nat change the API objects, heal restores them', async () => {
      const {name, root, env} = lab
      const objectsFile = join(root, `lab-${name}`, 'objects.json')
      const original = readFileSync(objectsFile, 'utf8')
      await breakFault(name, 'netpol-deny', {root})
      await breakFault(name, 'stale-nat', {root})
      const items = (JSON.parse(readFileSync(objectsFile, 'utf8')) as {items: {kind: string; metadata: {name: string; labels?: Record<string, string>}; spec?: unknown; endpoints?: {targetRef?: {name: string}}[]}[]}).items
      expect(items.filter((o) => o.kind === 'NetworkPolicy').map((o) => [o.metadata.name, o.spec])).toEqual([
        ['deny-ingress-web-2-2', {podSelector: {matchLabels: {'knet.dev/quarantine': 'true'}}, policyTypes: ['Ingress']}],
      ])
      // stale-nat deleted web-2-2 (with its label) from the API and from the web slices.
      expect(items.filter((o) => o.kind === 'Pod').map((o) => o.metadata.name)).toEqual(['web-1-1', 'web-1-2', 'web-2-1'])
      expect(items.filter((o) => o.kind === 'EndpointSlice' && o.metadata.name === 'web-lab').flatMap((o) => o.endpoints?.map((e) => e.targetRef?.name))).toEqual(['web-1-1', 'web-1-2', 'web-2-1'])
      // The restarted API server serves the changed objects through the lab's kubeconfig.
      const snap = await knet(['snapshot', '--lab', name, '-o', join(root, 'snap.json')], {env})
      expect(snap.stderr).toContain('3 pods')
      expect(snap.stderr).toContain('1 networkPolic')
      const healed = await healFaults(name, undefined, {root})
      expect(healed.healed.map((f) => f.id)).toEqual(['stale-nat', 'netpol-deny'])
      expect(readFileSync(objectsFile, 'utf8')).toBe(original)
      await expectBaseline(lab)
    }, 900_000)

    it('CLI: --list, unknown fault, break twice, heal all, down with faults applied', async () => {
      const {name, root, env} = lab
      const [list, unknown] = await Promise.all([knet(['lab', 'break', '--list', '--json'], {env}), knet(['lab', 'break', 'nope', '--name', name], {env})])
      expect(list.status).toBe(0)
      expect((JSON.parse(list.stdout) as {faults: {id: string}[]}).faults.map((f) => f.id)).toEqual(FAULTS.map((f) => f.id))
      expect([unknown.status, unknown.stderr.split('\n').length]).toEqual([2, 2])
      expect(unknown.stderr).toBe(`knet: unknown fault "nope"; valid: ${FAULTS.map((f) => f.id).join(', ')}\n`)
      const first = await knet(['lab', 'break', 'missing-route', '--name', name], {env})
      expect(first.status).toBe(0)
      expect(first.stderr).toContain(`lab ${name}: broke missing-route (node node-1, target node-2)`)
      const twice = await knet(['lab', 'break', 'missing-route', '--name', name], {env})
      expect(twice.status).toBe(2)
      expect(twice.stderr).toBe(`knet: fault missing-route is already applied to lab ${name} (node node-1, target node-2) (heal it first: knet lab heal missing-route --name ${name})\n`)
      expect((await knet(['lab', 'break', 'forward-drop', '--name', name], {env})).status).toBe(0)
      const heal = await knet(['lab', 'heal', '--name', name], {env})
      expect([heal.status, heal.stderr]).toEqual([0, `lab ${name}: healed forward-drop, missing-route\n`])
      expect((await knet(['lab', 'heal', '--name', name], {env})).stderr).toBe(`lab ${name}: nothing to heal\n`)
      await expectBaseline(lab)
      for (const id of ['netpol-deny', 'stale-nat', 'docker0-overlap', 'missing-nat']) expect((await knet(['lab', 'break', id, '--name', name], {env})).status).toBe(0)
      const down = await knet(['lab', 'down', '--name', name], {env})
      expect(down.status).toBe(0)
      await assertNothingLeft(name, root, lab.linksBefore)
    }, 900_000)
  },
})
