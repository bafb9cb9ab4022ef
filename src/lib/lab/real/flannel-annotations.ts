/**
 * What flanneld writes on its Node: the VTEP MAC in flannel.alpha.coreos.com/backend-data (vxlan),
 * and flannel-v6.1's in backend-v6-data on a dual-stack network.
 */
export function parseVtepMac(annotations: Record<string, string> | undefined, family: 4 | 6 = 4): string | undefined {
  const raw = annotations?.[family === 6 ? 'flannel.alpha.coreos.com/backend-v6-data' : 'flannel.alpha.coreos.com/backend-data']
  if (!raw) return undefined
  try {
    const mac = (JSON.parse(raw) as {VtepMAC?: unknown}).VtepMAC
    return typeof mac === 'string' && mac !== '' ? mac.toLowerCase() : undefined
  } catch {
    return undefined
  }
}
