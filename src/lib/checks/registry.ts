/** Every check doctor runs, in catalogue order. Explicit on purpose: adding a check is one line here. */
import {bridgeDown} from './bridge-down.js'
import {bridgeNfCallOff} from './bridge-nf-call-off.js'
import {cidrOverlap} from './cidr-overlap.js'
import {conntrackStale} from './conntrack-stale.js'
import {forwardPolicyDrop} from './forward-policy-drop.js'
import {ipForwardOff} from './ip-forward-off.js'
import {iptablesBackendMixed} from './iptables-backend-mixed.js'
import {iptablesUnreadable} from './iptables-unreadable.js'
import {kubeProxyMode} from './kube-proxy-mode.js'
import {mtuMismatch} from './mtu-mismatch.js'
import {natMissingService} from './nat-missing-service.js'
import {natOrphanService} from './nat-orphan-service.js'
import {natStaleEndpoint} from './nat-stale-endpoint.js'
import {netpolIsolates} from './netpol-isolates.js'
import {podIpDuplicate} from './pod-ip-duplicate.js'
import {podIpOutsideNodeCidr} from './pod-ip-outside-node-cidr.js'
import {proxyArpOff} from './proxy-arp-off.js'
import {routeMissing} from './route-missing.js'
import {routeNexthopWrong} from './route-nexthop-wrong.js'
import {rpFilterStrict} from './rp-filter-strict.js'
import {serviceNoEndpoints} from './service-no-endpoints.js'
import {serviceSelectorMatchesNothing} from './service-selector-matches-nothing.js'
import {serviceTargetportMismatch} from './service-targetport-mismatch.js'
import type {Check} from './types.js'
import {vethDetached} from './veth-detached.js'
import {vethDown} from './veth-down.js'

export const CHECKS: readonly Check[] = Object.freeze([
  cidrOverlap,
  podIpOutsideNodeCidr,
  podIpDuplicate,
  routeMissing,
  routeNexthopWrong,
  natStaleEndpoint,
  natMissingService,
  natOrphanService,
  conntrackStale,
  ipForwardOff,
  bridgeNfCallOff,
  forwardPolicyDrop,
  rpFilterStrict,
  proxyArpOff,
  iptablesBackendMixed,
  iptablesUnreadable,
  vethDetached,
  vethDown,
  bridgeDown,
  mtuMismatch,
  serviceNoEndpoints,
  serviceTargetportMismatch,
  serviceSelectorMatchesNothing,
  netpolIsolates,
  kubeProxyMode,
])

export const CHECK_IDS: readonly string[] = CHECKS.map((c) => c.id)

/** The checks to run for --only / --skip (ids already validated at parse time). */
export function selectChecks(only?: readonly string[], skip?: readonly string[]): Check[] {
  return CHECKS.filter((c) => (!only || only.includes(c.id)) && !(skip ?? []).includes(c.id))
}
