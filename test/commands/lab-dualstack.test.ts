import {dualStackSuite} from '../lib/lab/dualstack-suite.js'

// Issue 16, the lab side: dual-stack labs in both flannel topologies, each IPv6 fault with IPv4 untouched.
dualStackSuite({topology: 'host-gw', ipFamily: 'dual', tag: 'dsh', faults: true})
dualStackSuite({topology: 'vxlan', ipFamily: 'dual', tag: 'dsv', faults: true})
