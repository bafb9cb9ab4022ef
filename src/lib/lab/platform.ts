import {KnetError} from '../report/errors.js'

/** The lab creates network namespaces: Linux and root (CAP_NET_ADMIN) or nothing. */
export function assertLabPlatform(): void {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    throw new KnetError('unsupported', 'knet lab needs Linux and root (CAP_NET_ADMIN) to create network namespaces')
  }
}
