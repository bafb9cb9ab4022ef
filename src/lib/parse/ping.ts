/**
 * iputils ping's own words for why a packet did not make it, as a short reason ("fragmentation
 * needed (mtu 1400)"). Shared by the lab's prober and trace --probe's exec in a pod.
 */
const PING_REASONS: [RegExp, string][] = [
  [/message too long, mtu=(\d+)/, 'message too long (mtu $1)'],
  [/Frag needed and DF set \(mtu = (\d+)\)/, 'fragmentation needed (mtu $1)'],
  [/Destination Host Unreachable/, 'host unreachable'],
  [/Destination Net Unreachable/, 'network unreachable'],
  [/Destination Port Unreachable/, 'port unreachable'],
  [/Network is unreachable/, 'network unreachable'],
]

/** The reason ping's output gives for a failure, or undefined when it names none. */
export function pingFailureReason(text: string): string | undefined {
  for (const [re, reason] of PING_REASONS) {
    const m = text.match(re)
    if (m) return m[0].replace(re, reason)
  }
  return undefined
}
