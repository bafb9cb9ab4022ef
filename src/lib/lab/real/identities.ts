/**
 * Who talks to a real lab's API server, each with its own random bearer token (a
 * --token-auth-file): knet and the hollow kubelet as cluster admins, and the components as the
 * users the default RBAC policy already binds (system:kube-proxy, system:kube-controller-manager,
 * system:kube-scheduler); flannel as a user bound to flannel's own ClusterRole (manifests.ts).
 */
import {randomBytes} from 'node:crypto'
import {kubeconfigYaml} from '../../apiserver/kubeconfig.js'

export const IDENTITY_NAMES = ['admin', 'kubelet', 'kube-proxy', 'flannel', 'kube-controller-manager', 'kube-scheduler'] as const
export type IdentityName = (typeof IDENTITY_NAMES)[number]

export interface Identity {
  name: IdentityName
  user: string
  groups: string[]
  token: string
}

const USERS: Record<IdentityName, {user: string; groups: string[]}> = {
  admin: {user: 'knet-admin', groups: ['system:masters']},
  // Plays every node's kubelet for networking; admin because one process serves all nodes (the
  // Node authorizer would limit a system:node:NAME identity to one node).
  kubelet: {user: 'knet-hollow-kubelet', groups: ['system:masters']},
  'kube-proxy': {user: 'system:kube-proxy', groups: []},
  flannel: {user: 'knet-flannel', groups: []},
  'kube-controller-manager': {user: 'system:kube-controller-manager', groups: []},
  'kube-scheduler': {user: 'system:kube-scheduler', groups: []},
}

export function makeIdentities(random: (bytes: number) => string = (n) => randomBytes(n).toString('hex')): Identity[] {
  return IDENTITY_NAMES.map((name) => ({name, ...USERS[name], token: random(24)}))
}

/** The --token-auth-file: token,user,uid,"group1,group2". */
export function tokenAuthFile(identities: Identity[]): string {
  return identities.map((i) => [i.token, i.user, i.user, ...(i.groups.length > 0 ? [`"${i.groups.join(',')}"`] : [])].join(',')).join('\n') + '\n'
}

export function identityKubeconfig(identity: Identity, server: string, caPem: string): string {
  return kubeconfigYaml({server, caPem, token: identity.token, cluster: 'knet-lab', user: identity.user, context: 'knet-lab'})
}
