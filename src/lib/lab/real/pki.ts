/**
 * A real lab's keys and certificates, made per lab with the openssl CLI in the lab's directory: a
 * CA, the API server's serving certificate (valid for every address a client uses: the router's
 * 10.100.0.1 for nodes and pods, the `kubernetes` Service IP, 127.0.0.1 for knet through the
 * relay), and the service-account signing key pair. EC P-256 keys: quick to make on a small VM.
 */
import {join} from 'node:path'
import {run} from '../exec.js'

export interface LabPki {
  caCert: string
  caKey: string
  serverCert: string
  serverKey: string
  saKey: string
  saPub: string
}

export function pkiPaths(dir: string): LabPki {
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'apiserver.crt'),
    serverKey: join(dir, 'apiserver.key'),
    saKey: join(dir, 'sa.key'),
    saPub: join(dir, 'sa.pub'),
  }
}

/** subjectAltName for the API server: DNS names of the `kubernetes` Service, and each address. */
export function serverSubjectAltName(ips: string[]): string {
  const dns = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local', 'localhost']
  return [...dns.map((d) => `DNS:${d}`), ...ips.map((ip) => `IP:${ip}`)].join(',')
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

/** The openssl commands, in order (pure, so a unit test reads them). */
export function pkiCommands(pki: LabPki, labName: string, serverIps: string[]): string[][] {
  return [
    ['openssl', 'req', '-x509', ...EC, '-keyout', pki.caKey, '-out', pki.caCert, '-days', '30', '-subj', `/CN=knet-lab-${labName}-ca`],
    [
      'openssl', 'req', '-x509', ...EC, '-keyout', pki.serverKey, '-out', pki.serverCert, '-days', '30',
      '-CA', pki.caCert, '-CAkey', pki.caKey, '-subj', '/CN=kube-apiserver',
      '-addext', `subjectAltName=${serverSubjectAltName(serverIps)}`,
      '-addext', 'extendedKeyUsage=serverAuth',
      '-addext', 'basicConstraints=critical,CA:FALSE',
    ],
    ['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', pki.saKey],
    ['openssl', 'pkey', '-in', pki.saKey, '-pubout', '-out', pki.saPub],
  ]
}

export async function makePki(dir: string, labName: string, serverIps: string[]): Promise<LabPki> {
  const pki = pkiPaths(dir)
  for (const argv of pkiCommands(pki, labName, serverIps)) await run(argv)
  return pki
}
