import {dualStackSuite} from '../lib/lab/dualstack-suite.js'

// An IPv6-only lab (issue 16): the same pairs, probes, traces and a quiet doctor with no IPv4 pod network at all.
dualStackSuite({
  topology: 'vxlan',
  ipFamily: 'ipv6',
  tag: 'v6o',
})
