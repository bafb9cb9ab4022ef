import {parse} from 'yaml'
import {describe, expect, it, vi} from 'vitest'
import Rbac from '../../src/commands/rbac.js'
import {CLUSTER_READ_RULES, clusterRoleYaml} from '../../src/lib/gather/cluster/rbac.js'

describe('knet rbac', () => {
  it('prints a ClusterRole with exactly the read rules knet uses', () => {
    const role = parse(clusterRoleYaml()) as Record<string, unknown>
    expect(role).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {name: 'knet-reader', labels: {'app.kubernetes.io/name': 'knet'}},
      rules: [
        {apiGroups: [''], resources: ['nodes', 'pods', 'services', 'namespaces'], verbs: ['get', 'list']},
        {apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list']},
        {apiGroups: ['networking.k8s.io'], resources: ['networkpolicies'], verbs: ['get', 'list']},
        {apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['kube-proxy']},
        {apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['list']},
        {apiGroups: ['networking.k8s.io'], resources: ['servicecidrs'], verbs: ['list']},
        {apiGroups: ['crd.projectcalico.org'], resources: ['ipamblocks'], verbs: ['list']},
      ],
    })
  })

  it('never grants Secrets, wildcards or write verbs', () => {
    for (const {rule} of CLUSTER_READ_RULES) {
      expect(rule.resources).not.toContain('secrets')
      expect(rule.resources).not.toContain('*')
      expect(rule.verbs.every((v) => v === 'get' || v === 'list')).toBe(true)
    }
  })

  it('explains each rule in a comment, and takes a name', () => {
    const text = clusterRoleYaml({name: 'knet-readonly'})
    expect(text).toContain('  name: knet-readonly\n')
    expect(text.match(/^ {2}# /gm)).toHaveLength(CLUSTER_READ_RULES.length)
    expect(text).toContain('  # EndpointSlices: which pods back each Service, and whether they are ready\n  - apiGroups:\n')
    expect(text).toContain(
      "  # Calico's IPAMBlocks: which node holds which pod address block (optional; without it blocks are read from the nodes' routes)\n  - apiGroups:\n      - crd.projectcalico.org\n    resources:\n      - ipamblocks\n    verbs:\n      - list\n",
    )
  })
})

describe('the rbac command', () => {
  it('prints the ClusterRole on stdout and nothing else', async () => {
    const out: string[] = []
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk))
      return true
    })
    try {
      await Rbac.run(['--name', 'knet-ci'], process.cwd())
    } finally {
      spy.mockRestore()
    }
    expect(out.join('')).toBe(clusterRoleYaml({name: 'knet-ci'}))
  })
})
