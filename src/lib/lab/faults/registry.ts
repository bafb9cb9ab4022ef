/** Every fault `knet lab break` knows, in the order `--list` shows them. */
import {bridgeDown} from './bridge-down.js'
import {bridgeNfOff} from './bridge-nf-off.js'
import {cidrOverlap} from './cidr-overlap.js'
import {docker0Overlap} from './docker0-overlap.js'
import {forwardDrop} from './forward-drop.js'
import {ipForwardOff} from './ip-forward-off.js'
import {missingFdb} from './missing-fdb.js'
import {missingNat} from './missing-nat.js'
import {missingPodRoute} from './missing-pod-route.js'
import {missingPodRule} from './missing-pod-rule.js'
import {missingRoute} from './missing-route.js'
import {mtuMismatch} from './mtu-mismatch.js'
import {netpolDeny} from './netpol-deny.js'
import {proxyArpOff} from './proxy-arp-off.js'
import {staleConntrack} from './stale-conntrack.js'
import {staleNat} from './stale-nat.js'
import {staleRoute} from './stale-route.js'
import {vethDetached} from './veth-detached.js'
import type {Fault} from './types.js'

export const FAULTS: readonly Fault[] = [
  missingRoute,
  staleRoute,
  docker0Overlap,
  cidrOverlap,
  staleNat,
  missingNat,
  ipForwardOff,
  forwardDrop,
  bridgeNfOff,
  vethDetached,
  bridgeDown,
  mtuMismatch,
  netpolDeny,
  staleConntrack,
  missingPodRoute,
  proxyArpOff,
  missingFdb,
  missingPodRule,
]

export function findFault(id: string): Fault | undefined {
  return FAULTS.find((f) => f.id === id)
}
