/**
 * The real-lab fault suite (test/lib/lab/real-faults-suite.ts) with flannel's host-gw backend and
 * kube-proxy iptables: healthy pairs with trace agreeing with each probe and doctor clean, then the
 * faults whose behaviour depends on the backend — the pod-CIDR route itself (missing-route: with
 * two nodes and no flannel device or DaemonSet, only the backend flanneld announces on the Node
 * says a route is due; stale-route: a next hop on the underlay instead of a VTEP's FDB entry) and
 * mtu-mismatch (no encapsulation: other sizes, and node-1 answers "fragmentation needed" to its own
 * pods). The faults every backend shares run on vxlan only (lab-faults-real.test.ts), and so does
 * cidr-overlap, whose outcomes are the same with either backend: CI time matters. Root only, where
 * the real programs are.
 */
import {mtuSizes, pod, realFaultsSuite, type FaultCase} from '../lib/lab/real-faults-suite.js'

const cases: Record<string, FaultCase> = {
  'mtu-mismatch': {
    code: 'mtu-exceeded',
    doctor: {check: 'mtu-mismatch', node: 'node-1'},
    // host-gw: 1500 − 28 = 1472 payload bytes fill the pod MTU; 1372 fit node-1's eth0 at 1400. node-1
    // answers its own pods' full-size packets with "fragmentation needed"; node-2's are a black hole.
    pairs: (plan) => {
      const {small, full} = mtuSizes(plan)
      return [
        pod('web-1-1', 'web-2-1', 'delivered', 'icmp', {size: small}),
        {...pod('web-1-1', 'web-2-1', 'dropped', 'icmp', {size: full}), observed: 'error'},
        pod('web-2-2', 'web-1-2', 'dropped', 'icmp', {size: full}),
        pod('web-1-1', 'web-1-2', 'delivered', 'icmp', {size: full}),
        pod('web-1-1', 'web-2-1', 'delivered'),
      ]
    },
  },
}

realFaultsSuite({tag: 'rfhg', topology: 'host-gw', proxyMode: 'iptables', faults: ['missing-route', 'stale-route', 'mtu-mismatch'], cases})
