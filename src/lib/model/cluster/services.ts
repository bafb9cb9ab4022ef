import {arr, buildEach, defined, ipText, intOrString, meta, num, protocol, rec, str, stringMap, strings, type ModelProblem, type Protocol} from './read.js'

export interface ServicePort {
  name?: string
  port: number
  /** A number, or the name of a container port; defaults to port, as the API server does. */
  targetPort: number | string
  nodePort?: number
  protocol: Protocol
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'

export interface ServiceModel {
  namespace: string
  name: string
  labels: Record<string, string>
  type: ServiceType
  /** Allocated cluster IPs; empty for headless and ExternalName Services. */
  clusterIPs: string[]
  headless: boolean
  ipFamilies: string[]
  ports: ServicePort[]
  /** undefined: no selector (endpoints are managed by hand or by a controller). */
  selector?: Record<string, string>
  externalTrafficPolicy?: 'Cluster' | 'Local'
  internalTrafficPolicy?: 'Cluster' | 'Local'
  sessionAffinity: 'None' | 'ClientIP'
  externalIPs: string[]
  loadBalancerIngress: {ip?: string; hostname?: string}[]
  externalName?: string
}

const TYPES: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']

export function buildServices(raw: unknown[], problems: ModelProblem[], release = false): ServiceModel[] {
  return buildEach(raw, (obj, i) => serviceOf(obj, i, problems), release)
}

export function serviceOf(obj: unknown, i: number, problems: ModelProblem[]): ServiceModel | undefined {
  const m = meta(obj)
  if (!m) return void problems.push({subject: `services[${i}]`, message: 'service without metadata.name ignored'})
  const subject = `service ${m.namespace}/${m.name}`
  const spec = rec(rec(obj).spec)
  const status = rec(rec(obj).status)
  const rawType = str(spec.type) ?? 'ClusterIP'
  const type = (TYPES as readonly string[]).includes(rawType) ? (rawType as ServiceType) : 'ClusterIP'
  if (type !== rawType) problems.push({subject, message: `unknown type "${rawType}" read as ClusterIP`})
  const listed = strings(spec.clusterIPs)
  const single = str(spec.clusterIP)
  const ips = listed.length === 0 && single ? [single] : listed
  const headless = ips.includes('None')
  const ports = defined(
    arr(spec.ports).map((p): ServicePort | undefined => {
      const r = rec(p)
      const port = num(r.port)
      if (port === undefined) return void problems.push({subject, message: 'port without a number ignored'})
      const name = str(r.name)
      const nodePort = num(r.nodePort)
      const targetPort = intOrString(r.targetPort) ?? port
      // Literals, not spreads of optional fields: every Service port of the cluster is read here.
      const out: ServicePort = name ? {name, port, targetPort, protocol: protocol(r.protocol)} : {port, targetPort, protocol: protocol(r.protocol)}
      if (!nodePort) return out
      return name ? {name, port, targetPort, nodePort, protocol: out.protocol} : {port, targetPort, nodePort, protocol: out.protocol}
    }),
  )
  const selector = spec.selector === undefined || spec.selector === null ? undefined : stringMap(spec.selector)
  const etp = str(spec.externalTrafficPolicy)
  const itp = str(spec.internalTrafficPolicy)
  const externalName = str(spec.externalName)
  const clusterIPs = headless ? [] : defined(ips.map((ip) => (ip ? ipText(ip) : undefined)))
  const ipFamilies = strings(spec.ipFamilies)
  const sessionAffinity = spec.sessionAffinity === 'ClientIP' ? 'ClientIP' : 'None'
  const externalIPs = strings(spec.externalIPs)
  const loadBalancerIngress = arr(rec(status.loadBalancer).ingress).map((g) => {
    const r = rec(g)
    const ip = str(r.ip)
    const hostname = str(r.hostname)
    return {...(ip ? {ip} : {}), ...(hostname ? {hostname} : {})}
  })
  const {namespace, name, labels} = m
  const selected = selector && Object.keys(selector).length > 0 ? selector : undefined
  const external = etp === 'Cluster' || etp === 'Local' ? etp : undefined
  const internal = itp === 'Cluster' || itp === 'Local' ? itp : undefined
  // The usual Services as one literal each (fields added after a literal go to a separate store,
  // slower to read for every check that walks the Services); the rest by assignment, in the same key order.
  if (selected && internal && !externalName) {
    return external
      ? {namespace, name, labels, type, clusterIPs, headless, ipFamilies, ports, selector: selected, externalTrafficPolicy: external, internalTrafficPolicy: internal, sessionAffinity, externalIPs, loadBalancerIngress}
      : {namespace, name, labels, type, clusterIPs, headless, ipFamilies, ports, selector: selected, internalTrafficPolicy: internal, sessionAffinity, externalIPs, loadBalancerIngress}
  }
  const out = {namespace, name, labels, type, clusterIPs, headless, ipFamilies, ports} as ServiceModel
  if (selected) out.selector = selected
  if (external) out.externalTrafficPolicy = external
  if (internal) out.internalTrafficPolicy = internal
  out.sessionAffinity = sessionAffinity
  out.externalIPs = externalIPs
  out.loadBalancerIngress = loadBalancerIngress
  if (externalName) out.externalName = externalName
  return out
}
