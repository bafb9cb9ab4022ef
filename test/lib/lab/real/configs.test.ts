import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {planLab} from '../../../../src/lib/lab/plan.js'
import {cniConflist, flannelNetConf, kubeProxyConfig, ptpConflist, schedulerConfig} from '../../../../src/lib/lab/real/configs.js'
import {apiServerSpec, controllerManagerSpec, flanneldSpec, kubeProxySpec, type LabFiles} from '../../../../src/lib/lab/real/components.js'
import {pkiCommands, pkiPaths, serverSubjectAltName} from '../../../../src/lib/lab/real/pki.js'
import {identityKubeconfig, makeIdentities, tokenAuthFile} from '../../../../src/lib/lab/real/identities.js'
import {parseVersion} from '../../../../src/lib/lab/real/binaries.js'
import {firstServiceIp} from '../../../../src/lib/lab/real/lab-up.js'

const plan = planLab({name: 'c', nodes: 2, podsPerNode: 1, topology: 'vxlan'})
const node = plan.nodes[0] as (typeof plan.nodes)[number]
const files: LabFiles = {
  dir: '/run/knet/lab-c',
  bin: '/k8s/bin',
  pki: pkiPaths('/run/knet/lab-c'),
  tokenFile: '/run/knet/lab-c/tokens.csv',
  kubeconfigs: {
    'kube-proxy': '/run/knet/lab-c/kube-proxy.kubeconfig',
    flannel: '/run/knet/lab-c/flannel.kubeconfig',
    'kube-controller-manager': '/run/knet/lab-c/kube-controller-manager.kubeconfig',
    'kube-scheduler': '/run/knet/lab-c/kube-scheduler.kubeconfig',
    kubelet: '/run/knet/lab-c/kubelet.kubeconfig',
  },
  schedulerConfig: '/run/knet/lab-c/kube-scheduler.yaml',
  flannelNetConf: '/run/knet/lab-c/net-conf.json',
}

describe('real lab configuration', () => {
  it("writes kube-proxy's KubeProxyConfiguration for a node", () => {
    expect(parse(kubeProxyConfig(plan, 'nftables', '/k/kp.kubeconfig', node))).toEqual({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
      kind: 'KubeProxyConfiguration',
      clientConnection: {kubeconfig: '/k/kp.kubeconfig'},
      hostnameOverride: 'node-1',
      mode: 'nftables',
      clusterCIDR: '10.244.0.0/16',
      conntrack: {maxPerCore: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s'},
      metricsBindAddress: '127.0.0.1:10249',
      healthzBindAddress: '127.0.0.1:10256',
    })
    expect(parse(kubeProxyConfig(plan, 'iptables', '/k')).hostnameOverride).toBeUndefined()
  })

  it("writes flannel's net-conf for the topology", () => {
    expect(JSON.parse(flannelNetConf(plan))).toEqual({Network: '10.244.0.0/16', Backend: {Type: 'vxlan', VNI: 1, Port: 8472}})
    expect(JSON.parse(flannelNetConf(planLab({...plan.params, topology: 'host-gw'})))).toEqual({Network: '10.244.0.0/16', Backend: {Type: 'host-gw'}})
  })

  it('writes a per-node CNI conflist: flannel delegating to bridge, then portmap', () => {
    expect(cniConflist(node, {subnetFile: '/d/node-1/subnet.env', dataDir: '/d/node-1/flannel-cni', ipamDir: '/d/node-1/ipam'})).toEqual({
      name: 'cbr0',
      cniVersion: '0.3.1',
      plugins: [
        {
          type: 'flannel',
          subnetFile: '/d/node-1/subnet.env',
          dataDir: '/d/node-1/flannel-cni',
          ipam: {type: 'host-local', dataDir: '/d/node-1/ipam'},
          delegate: {hairpinMode: true, isDefaultGateway: true, bridge: 'cbr0'},
        },
        {type: 'portmap', capabilities: {portMappings: true}},
      ],
    })
  })

  it("writes kindnet's ptp conflist for a node's pod CIDR: ptp with host-local and a default route, then portmap", () => {
    expect(ptpConflist('10.244.1.0/24', '/d/node-2/ipam', 1500)).toEqual({
      name: 'kindnet',
      cniVersion: '0.3.1',
      plugins: [
        {type: 'ptp', ipMasq: false, ipam: {type: 'host-local', dataDir: '/d/node-2/ipam', routes: [{dst: '0.0.0.0/0'}], ranges: [[{subnet: '10.244.1.0/24'}]]}, mtu: 1500},
        {type: 'portmap', capabilities: {portMappings: true}},
      ],
    })
    expect(JSON.parse(flannelNetConf(planLab({...plan.params, topology: 'ptp'})))).toEqual({Network: '10.244.0.0/16', Backend: {Type: 'host-gw'}})
  })

  it('configures the scheduler without leader election', () => {
    expect(parse(schedulerConfig('/k/s'))).toEqual({apiVersion: 'kubescheduler.config.k8s.io/v1', kind: 'KubeSchedulerConfiguration', clientConnection: {kubeconfig: '/k/s'}, leaderElection: {leaderElect: false}})
  })

  it('runs the control plane in the router namespace and node programs in the node namespace', () => {
    const api = apiServerSpec(plan, files)
    expect(api.netns).toBe('knetlab-c-rt')
    expect(api.argv).toEqual(expect.arrayContaining(['--bind-address=10.100.0.1', '--advertise-address=10.100.0.1', '--authorization-mode=Node,RBAC', '--token-auth-file=/run/knet/lab-c/tokens.csv', '--service-cluster-ip-range=10.96.0.0/16']))
    expect(controllerManagerSpec(plan, files).argv).toEqual(
      expect.arrayContaining(['--allocate-node-cidrs=true', '--cluster-cidr=10.244.0.0/16', '--node-cidr-mask-size=24', '--leader-elect=false', '--secure-port=0']),
    )
    const kp = kubeProxySpec(node, files)
    expect([kp.netns, kp.node, kp.argv]).toEqual(['knetlab-c-n1', 'node-1', ['/k8s/bin/kube-proxy', '--config=/run/knet/lab-c/node-1/kube-proxy.yaml', '--v=1']])
    const fl = flanneldSpec(node, files)
    expect(fl.argv).toEqual(expect.arrayContaining(['--kube-subnet-mgr', '--iface=eth0', '--subnet-file=/run/knet/lab-c/node-1/subnet.env', '--net-config-path=/run/knet/lab-c/net-conf.json']))
    expect(fl.env?.NODE_NAME).toBe('node-1')
  })

  it('makes a serving certificate valid for every address clients use', () => {
    expect(firstServiceIp('10.96.0.0/12')).toBe('10.96.0.1')
    expect(serverSubjectAltName(['10.100.0.1', '127.0.0.1'])).toBe(
      'DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:10.100.0.1,IP:127.0.0.1',
    )
    const cmds = pkiCommands(pkiPaths('/d'), 'c', ['10.100.0.1'])
    expect(cmds.map((c) => c.slice(0, 3))).toEqual([
      ['openssl', 'req', '-x509'],
      ['openssl', 'req', '-x509'],
      ['openssl', 'genpkey', '-algorithm'],
      ['openssl', 'pkey', '-in'],
    ])
    expect(cmds[1]).toEqual(expect.arrayContaining(['-CA', '/d/ca.crt', '-CAkey', '/d/ca.key']))
  })

  it('gives each identity a token and the users default RBAC binds', () => {
    let n = 0
    const ids = makeIdentities(() => `t${++n}`)
    expect(tokenAuthFile(ids)).toBe(
      ['t1,knet-admin,knet-admin,"system:masters"', 't2,knet-hollow-kubelet,knet-hollow-kubelet,"system:masters"', 't3,system:kube-proxy,system:kube-proxy', 't4,knet-flannel,knet-flannel', 't5,system:kube-controller-manager,system:kube-controller-manager', 't6,system:kube-scheduler,system:kube-scheduler', ''].join('\n'),
    )
    const kc = parse(identityKubeconfig(ids[2] as (typeof ids)[number], 'https://10.100.0.1:6443', 'PEM'))
    expect(kc.clusters[0].cluster.server).toBe('https://10.100.0.1:6443')
    expect(kc.users[0]).toEqual({name: 'system:kube-proxy', user: {token: 't3'}})
  })

  it('reads the versions the programs print', () => {
    expect(parseVersion('kube-apiserver', 'Kubernetes v1.36.3\n')).toBe('v1.36.3')
    expect(parseVersion('etcd', 'etcd Version: 3.6.8\nGit SHA: GitNotFound\nGo Version: go1.26.8\n')).toBe('3.6.8')
    expect(parseVersion('flanneld', 'v0.28.10\n')).toBe('v0.28.10')
  })
})
