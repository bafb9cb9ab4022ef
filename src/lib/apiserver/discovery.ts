/** Discovery documents (/version, /api, /apis, /api/v1, /apis/G/V): enough for client-node and kubectl-style probes. */
import {RESOURCE_TYPES, apiVersionOf, type ResourceType} from './resources.js'

/** Whether the server serves a type now (custom resources only while it holds objects of them). */
export type IsServed = (type: ResourceType) => boolean

export const SERVER_VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.2',
  gitCommit: '5864a4677267e6adeae276ad85882a8714d69d9d',
  gitTreeState: 'clean',
  buildDate: '2024-10-22T20:28:14Z',
  goVersion: 'go1.22.8',
  compiler: 'gc',
  platform: 'linux/amd64',
}

export function coreVersions(): object {
  return {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443'}]}
}

export function groupList(isServed: IsServed = () => true): object {
  const groups = [...new Set(RESOURCE_TYPES.filter((t) => t.group !== '' && isServed(t)).map((t) => `${t.group}/${t.version}`))]
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((gv) => {
      const [name, version] = gv.split('/') as [string, string]
      const v = {groupVersion: gv, version}
      return {name, versions: [v], preferredVersion: v}
    }),
  }
}

export function resourceList(groupVersion: string, isServed: IsServed = () => true): object | undefined {
  const types = RESOURCE_TYPES.filter((t) => apiVersionOf(t) === groupVersion && isServed(t))
  if (types.length === 0) return undefined
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: types.map((t) => ({
      name: t.resource,
      singularName: t.kind.toLowerCase(),
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['get', 'list'],
    })),
  }
}
