/** What flanneld writes on its Node: the VTEP MAC in flannel.alpha.coreos.com/backend-data (vxlan). */
export function parseVtepMac(annotations: Record<string, string> | undefined): string | undefined {
  const raw = annotations?.['flannel.alpha.coreos.com/backend-data']
  if (!raw) return undefined
  try {
    const mac = (JSON.parse(raw) as {VtepMAC?: unknown}).VtepMAC
    return typeof mac === 'string' && mac !== '' ? mac.toLowerCase() : undefined
  } catch {
    return undefined
  }
}
