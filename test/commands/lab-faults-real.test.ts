/**
 * Every fault with a real mode, on one real-Kubernetes lab (`knet lab up --kubernetes DIR`, vxlan,
 * 2 nodes × 2 pods, kube-proxy iptables): the emulated suite's loop (lab-faults-suite.ts) against
 * the real programs, as test/lib/lab/real-faults-suite.ts runs it (healthy first, then per fault:
 * break → capture → probe → trace agrees with every probe → doctor names the fault → heal →
 * healthy). lab-faults-real-hostgw.test.ts and lab-faults-real-nftables.test.ts run the same suite
 * with flannel's host-gw backend and with kube-proxy's nftables mode. Root only, and only where the
 * real programs are (see test/helpers/kubernetes.ts); otherwise skipped with the reason in the title.
 */
import {realFaultsSuite} from '../lib/lab/real-faults-suite.js'

realFaultsSuite({tag: 'rfx', topology: 'vxlan', proxyMode: 'iptables'})
