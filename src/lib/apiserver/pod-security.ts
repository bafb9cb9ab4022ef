/**
 * The part of Pod Security admission a debug pod meets: the baseline rules about host namespaces,
 * privileged containers, added capabilities and hostPath volumes, and for "restricted" the extra
 * rules on privilege escalation, capability drops and non-root. Messages are worded as
 * kube-apiserver words them, because knet recognises the rejection by them.
 */
type Json = Record<string, unknown>

// Capabilities the baseline level allows a container to add.
const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'])

export function podSecurityViolations(spec: Json, level: 'baseline' | 'restricted'): string[] {
  const out: string[] = []
  const containers = [...asArray(spec.initContainers), ...asArray(spec.containers)] as Json[]
  const hostNs = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => spec[k] === true)
  if (hostNs.length > 0) out.push(`host namespaces (${hostNs.map((k) => `${k}=true`).join(', ')})`)
  const privileged = containers.filter((c) => sc(c).privileged === true).map((c) => `"${String(c.name)}"`)
  if (privileged.length > 0) out.push(`privileged (${plural('container', privileged)} ${privileged.join(', ')} must not set securityContext.privileged=true)`)
  const hostPaths = asArray(spec.volumes).filter((v) => typeof (v as Json).hostPath === 'object').map((v) => `"${String((v as Json).name)}"`)
  if (hostPaths.length > 0) out.push(`hostPath ${plural('volume', hostPaths)} (${plural('volume', hostPaths)} ${hostPaths.join(', ')})`)
  const capParts: string[] = []
  for (const c of containers) {
    const added = asArray((sc(c).capabilities as Json | undefined)?.add).map(String)
    const bad = level === 'restricted' ? added.filter((a) => a !== 'NET_BIND_SERVICE') : added.filter((a) => !BASELINE_CAPS.has(a))
    if (bad.length > 0) capParts.push(`container "${String(c.name)}" must not include ${bad.map((b) => `"${b}"`).join(', ')} in securityContext.capabilities.add`)
  }
  if (capParts.length > 0) out.push(`${level === 'restricted' ? 'unrestricted' : 'non-default'} capabilities (${capParts.join('; ')})`)
  if (level === 'restricted') {
    const escalating = containers.filter((c) => sc(c).allowPrivilegeEscalation !== false).map((c) => `"${String(c.name)}"`)
    if (escalating.length > 0) out.push(`allowPrivilegeEscalation != false (${plural('container', escalating)} ${escalating.join(', ')} must set securityContext.allowPrivilegeEscalation=false)`)
    const podRunAsNonRoot = (spec.securityContext as Json | undefined)?.runAsNonRoot === true
    const rootish = containers.filter((c) => !(sc(c).runAsNonRoot === true || (podRunAsNonRoot && sc(c).runAsNonRoot !== false))).map((c) => `"${String(c.name)}"`)
    if (rootish.length > 0) out.push(`runAsNonRoot != true (pod or ${plural('container', rootish)} ${rootish.join(', ')} must set securityContext.runAsNonRoot=true)`)
  }
  return out
}

function sc(c: Json): Json {
  return (typeof c.securityContext === 'object' && c.securityContext !== null ? c.securityContext : {}) as Json
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

function plural(word: string, items: unknown[]): string {
  return items.length === 1 ? word : `${word}s`
}
