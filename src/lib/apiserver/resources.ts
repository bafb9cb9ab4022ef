/**
 * The slice of the Kubernetes REST API the stand-in server serves: which kinds live at which
 * paths. Anything not listed here is a 404, as it would be on a server without that API group.
 */
export interface ResourceType {
  /** Plural resource name as it appears in URLs and RBAC rules. */
  resource: string
  /** API group; '' is the core group (served under /api/v1). */
  group: string
  version: string
  kind: string
  namespaced: boolean
  /**
   * A custom resource: served (and in discovery) only when the server holds objects of it, as if
   * its CustomResourceDefinition were installed; otherwise its path is a 404 like any unknown group.
   */
  custom?: boolean
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  {resource: 'nodes', group: '', version: 'v1', kind: 'Node', namespaced: false},
  {resource: 'namespaces', group: '', version: 'v1', kind: 'Namespace', namespaced: false},
  {resource: 'pods', group: '', version: 'v1', kind: 'Pod', namespaced: true},
  {resource: 'services', group: '', version: 'v1', kind: 'Service', namespaced: true},
  {resource: 'configmaps', group: '', version: 'v1', kind: 'ConfigMap', namespaced: true},
  // Served only to refuse: knet must never read Secrets, and the request log proves it.
  {resource: 'secrets', group: '', version: 'v1', kind: 'Secret', namespaced: true},
  {resource: 'endpointslices', group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', namespaced: true},
  {resource: 'networkpolicies', group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', namespaced: true},
  {resource: 'servicecidrs', group: 'networking.k8s.io', version: 'v1', kind: 'ServiceCIDR', namespaced: false},
  {resource: 'daemonsets', group: 'apps', version: 'v1', kind: 'DaemonSet', namespaced: true},
  {resource: 'ipamblocks', group: 'crd.projectcalico.org', version: 'v1', kind: 'IPAMBlock', namespaced: false, custom: true},
]

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`
}

export function typeForKind(apiVersion: unknown, kind: unknown): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.kind === kind && apiVersionOf(t) === apiVersion)
}

export function typeForPath(group: string, version: string, resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.resource === resource)
}
