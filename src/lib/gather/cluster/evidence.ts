/**
 * The cluster section of a snapshot: API objects exactly as the server (or kubectl) returned them,
 * so that better model code can replay old snapshots, plus what could not be collected.
 */
import {z} from 'zod'
import type {CollectionError} from '../../report/collection-error.js'

export interface ClusterEvidence {
  source: 'api' | 'objects-file'
  server?: string
  context?: string
  file?: string
  serverVersion?: {major: string; minor: string; gitVersion: string}
  objects: {
    nodes: unknown[]
    pods: unknown[]
    services: unknown[]
    endpointSlices: unknown[]
    networkPolicies: unknown[]
    daemonSets: unknown[]
    kubeProxyConfigMap: unknown | null
    /** Namespace objects (their labels feed NetworkPolicy namespaceSelectors); absent in older snapshots. */
    namespaces?: unknown[]
    /**
     * networking.k8s.io/v1 ServiceCIDRs, the cluster's Service ranges (Kubernetes 1.33+). Absent when
     * not read: older snapshots and files without them, servers that do not serve them (404), or a
     * refusal (then also a collection error). Without them the model falls back to a guess.
     */
    serviceCIDRs?: unknown[]
    /**
     * Calico's crd.projectcalico.org/v1 IPAMBlocks: which node holds which pod address block. Absent
     * when not read: older snapshots, files without them, clusters without Calico's CRDs (404), or a
     * refusal (then also a collection error). Without them blocks are read from the nodes' routes.
     */
    ipamBlocks?: unknown[]
  }
  /** kinds seen in an objects file that knet does not use, with counts */
  ignoredKinds: Record<string, number>
  /** forbidden optional resources, malformed documents (source like 'objects[3]') */
  errors: CollectionError[]
}

const errorKinds = ['bad-input', 'unreachable', 'tls', 'unauthorized', 'forbidden', 'not-found', 'timeout', 'unsupported', 'internal'] as const

// Lenient on the objects themselves: they are whatever the API returned and the model copes.
const anyValue = z.custom<unknown>(() => true)

export const clusterEvidenceSchema: z.ZodType<ClusterEvidence> = z.object({
  source: z.enum(['api', 'objects-file']),
  server: z.string().optional(),
  context: z.string().optional(),
  file: z.string().optional(),
  serverVersion: z.object({major: z.string(), minor: z.string(), gitVersion: z.string()}).optional(),
  objects: z.object({
    nodes: z.array(anyValue),
    pods: z.array(anyValue),
    services: z.array(anyValue),
    endpointSlices: z.array(anyValue),
    networkPolicies: z.array(anyValue),
    daemonSets: z.array(anyValue),
    kubeProxyConfigMap: anyValue,
    namespaces: z.array(anyValue).optional(),
    serviceCIDRs: z.array(anyValue).optional(),
    ipamBlocks: z.array(anyValue).optional(),
  }),
  ignoredKinds: z.record(z.string(), z.number()),
  errors: z.array(
    z.object({
      node: z.string().optional(),
      source: z.string(),
      kind: z.enum(errorKinds),
      message: z.string(),
    }),
  ),
})

export function emptyObjects(): ClusterEvidence['objects'] {
  return {nodes: [], pods: [], services: [], endpointSlices: [], networkPolicies: [], daemonSets: [], kubeProxyConfigMap: null, namespaces: []}
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration'

/**
 * Drop what only bloats a snapshot and never describes networking: server-side-apply bookkeeping
 * and kubectl's copy of the last applied manifest (often the size of the object again).
 * Mutates and returns the object (each comes fresh from JSON.parse or YAML).
 */
export function slimObject<T>(obj: T): T {
  const meta = (obj as {metadata?: {managedFields?: unknown; annotations?: Record<string, unknown>}} | null)?.metadata
  if (meta && typeof meta === 'object') {
    delete meta.managedFields
    if (meta.annotations && typeof meta.annotations === 'object' && LAST_APPLIED in meta.annotations) {
      delete meta.annotations[LAST_APPLIED]
      if (Object.keys(meta.annotations).length === 0) delete meta.annotations
    }
  }
  return obj
}
