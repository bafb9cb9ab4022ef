/**
 * What `trace --probe` needs from RBAC on a live cluster, as `knet rbac --probe` prints it: exec
 * into the source pod, and patch of pods/ephemeralcontainers for the debug container — added to
 * the read rules and to whatever the node access mode needs, never instead of them.
 */
import {parse} from 'yaml'
import {describe, expect, it} from 'vitest'
import {ruleGroupsFor} from '../../src/lib/gather/cluster/rbac.js'
import {knetAsync} from '../helpers/cli.js'

interface Role {
  rules: {apiGroups: string[]; resources: string[]; verbs: string[]}[]
}

describe('knet rbac --probe', () => {
  it('adds pods/exec and pods/ephemeralcontainers patch, each with its reason, after the mode\'s own rules', async () => {
    const probe = await knetAsync(['rbac', '--node-access', 'pod', '--probe'])
    expect(probe.status).toBe(0)
    // What --node-access pod prints without --probe (its own CLI test pins that output).
    const before = ruleGroupsFor('pod').map((g) => g.rule)
    const after = (parse(probe.stdout) as Role).rules
    expect(after.slice(0, before.length)).toEqual(before)
    expect(after.slice(before.length)).toEqual([
      {apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get']},
      {apiGroups: [''], resources: ['pods/ephemeralcontainers'], verbs: ['patch']},
    ])
    expect(probe.stdout).toContain('  # trace --probe: add an ephemeral debug container to a source pod that has no tool to send the packet with (it cannot be removed; it stops by itself)\n')
    // Without --probe, nothing about ephemeral containers; and no Secrets either way.
    expect(before.flatMap((r) => r.resources)).not.toContain('pods/ephemeralcontainers')
    expect(after.flatMap((r) => r.resources)).not.toContain('secrets')
  })
})
