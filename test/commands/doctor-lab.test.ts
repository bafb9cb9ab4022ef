/**
 * Issue 6 over the real lab (root): a healthy lab has no warning and no error in both topologies;
 * a snapshot of it replays to the same report; a fault made directly in a node's namespace is
 * reported by exactly the check it emulates through the CLI, naming the node, quoting the evidence
 * and exiting 1. (Every `knet lab break` fault: doctor-lab-faults.test.ts.)
 */
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {knet} from '../helpers/cli.js'
import {describeNetns} from '../helpers/netns.js'
import {LAB_TOOLS, tempLabRoot} from '../lib/lab/lab-harness.js'

interface DoctorJson {
  summary: {error: number; warn: number; info: number; skipped: number}
  findings: {check: string; severity: string; subject: {kind: string; name: string}; node?: string; message: string; evidence: {source: string; text: string}[]}[]
  skipped: unknown[]
  collectionErrors: unknown[]
}

function doctor(args: string[], env: NodeJS.ProcessEnv): {status: number; report: DoctorJson; stderr: string} {
  const r = knet(['doctor', ...args, '-o', 'json'], {env})
  return {status: r.status, report: JSON.parse(r.stdout) as DoctorJson, stderr: r.stderr}
}

/** Run argv in a lab namespace (the test plays the part of whatever broke the node). */
function inLab(netns: string, argv: string[], input?: string): void {
  execFileSync('ip', ['netns', 'exec', netns, ...argv], {input, stdio: ['pipe', 'ignore', 'pipe']})
}

for (const topology of ['host-gw', 'vxlan'] as const) {
  describeNetns(`knet doctor over a ${topology} lab [root]`, () => {
    const name = `doc${topology === 'vxlan' ? 'vx' : 'hg'}`
    let root = ''
    let env: NodeJS.ProcessEnv = {}
    const n1 = `knetlab-${name}-n1`

    beforeAll(() => {
      root = tempLabRoot(name)
      env = {KNET_LAB_DIR: root}
      const up = knet(['lab', 'up', '--name', name, '--nodes', '2', '--pods-per-node', '2', '--topology', topology], {env})
      if (up.status !== 0) throw new Error(`lab up failed: ${up.stderr}`)
    })
    afterAll(() => {
      knet(['lab', 'down', '--name', name], {env})
      rmSync(root, {recursive: true, force: true})
    })

    it('a healthy lab: no finding at all, nothing skipped, exit 0', () => {
      const {status, report} = doctor(['--lab', name], env)
      expect(report.findings).toEqual([])
      expect(report.summary).toEqual({error: 0, warn: 0, info: 0, skipped: 0})
      expect(report.collectionErrors).toEqual([])
      expect(status).toBe(0)
    })

    it('replays from a snapshot of the lab to the same report', () => {
      const file = join(root, 'lab.json.gz')
      expect(knet(['snapshot', '--lab', name, '-o', file], {env}).status).toBe(0)
      const live = doctor(['--lab', name], env).report
      expect(doctor(['--snapshot', file], env).report).toEqual(live)
    })

    it('ip_forward off on node-1: exactly ip-forward-off, naming node-1 and the sysctl', () => {
      inLab(n1, ['tee', '/proc/sys/net/ipv4/ip_forward'], '0')
      try {
        const {status, report} = doctor(['--lab', name], env)
        expect(report.findings.map((f) => [f.check, f.node])).toEqual([['ip-forward-off', 'node-1']])
        expect(report.findings[0]?.evidence[0]?.text).toBe('/proc/sys/net/ipv4/ip_forward:0')
        expect(status).toBe(1)
      } finally {
        inLab(n1, ['tee', '/proc/sys/net/ipv4/ip_forward'], '1')
      }
    })
  }, LAB_TOOLS)
}
