import type {PodModel} from '../model/cluster.js'
import type {Finding} from '../report/finding.js'
import {api} from './evidence.js'
import type {Check} from './types.js'

export const serviceTargetportMismatch: Check = {
  id: 'service-targetport-mismatch',
  title: "Service targetPorts are ports the selected pods declare",
  severity: 'error',
  requires: ['cluster:services', 'cluster:pods'],
  remediation: "set the Service port's targetPort to a containerPort (name or number) the selected pods declare, or add that port to the pod template",
  explanation:
    'A named targetPort is resolved against the container ports of each selected pod; when no pod declares that name, the Service gets no endpoint for that port. A number no pod declares usually means traffic is sent to a port nothing listens on.',
  run(ctx) {
    const findings: Finding[] = []
    for (const svc of ctx.cluster().services) {
      if (!svc.selector || svc.type === 'ExternalName') continue
      const pods = ctx.model.index.selectPods(svc.namespace, svc.selector)
      if (pods.length === 0) continue
      const key = `${svc.namespace}/${svc.name}`
      svc.ports.forEach((port, i) => {
        const named = typeof port.targetPort === 'string'
        if (declares(pods, port.protocol, port.targetPort)) return
        const example = pods[0] as PodModel
        findings.push(
          ctx.finding({
            subject: {kind: 'service', namespace: svc.namespace, name: svc.name},
            ...(named ? {} : {severity: 'warn' as const}),
            message: `port ${port.name ?? port.port}: targetPort ${String(port.targetPort)}/${port.protocol} is not declared by any of the ${pods.length} selected pod(s)`,
            evidence: [
              api('Service', key, `spec.ports[${i}].targetPort`, String(port.targetPort)),
              api('Pod', `${example.namespace}/${example.name}`, 'spec.containers[*].ports', portsText(example)),
            ],
          }),
        )
      })
    }
    return findings
  },
}

/**
 * Whether a selected pod declares the target port (a name, or a number; for a number, also when no
 * pod declares any port of the protocol). Plain loops: it runs for every port of every Service.
 */
function declares(pods: readonly PodModel[], protocol: string, target: number | string): boolean {
  let any = false
  for (const p of pods) {
    for (const c of p.containers) {
      for (const cp of c.ports) {
        if (cp.protocol !== protocol) continue
        if (typeof target === 'string' ? cp.name === target : cp.containerPort === target) return true
        any = true
      }
    }
  }
  return typeof target === 'number' && !any
}

function portsText(pod: PodModel): string {
  const ports = pod.containers.flatMap((c) => c.ports.map((p) => `${c.name}: ${p.name ? `${p.name}=` : ''}${p.containerPort}/${p.protocol}`))
  return ports.length > 0 ? ports.join(', ') : 'no ports declared'
}
