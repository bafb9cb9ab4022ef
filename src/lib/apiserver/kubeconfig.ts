/** Kubeconfig files pointing at the stand-in server, so knet reaches it exactly as it reaches a cluster. */
import {writeFileSync} from 'node:fs'
import {stringify} from 'yaml'

export interface KubeconfigOptions {
  server: string
  /** Trusted CA PEM for HTTPS; omitted for HTTP. */
  caPem?: string
  token?: string
  /** Names; default "knet-test" for all three. */
  cluster?: string
  user?: string
  context?: string
  /** Whether to set current-context (default true). */
  setCurrent?: boolean
}

export function kubeconfigYaml(o: KubeconfigOptions): string {
  const cluster = o.cluster ?? 'knet-test'
  const user = o.user ?? 'knet-test'
  const context = o.context ?? 'knet-test'
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster,
        cluster: {
          server: o.server,
          ...(o.caPem ? {'certificate-authority-data': Buffer.from(o.caPem).toString('base64')} : {}),
          // client-node 1.4 refuses an http:// server unless TLS verification is explicitly off.
          ...(o.server.startsWith('http:') ? {'insecure-skip-tls-verify': true} : {}),
        },
      },
    ],
    users: [{name: user, user: o.token ? {token: o.token} : {}}],
    contexts: [{name: context, context: {cluster, user}}],
    ...(o.setCurrent === false ? {} : {'current-context': context}),
    preferences: {},
  }
  return stringify(doc)
}

export function writeKubeconfigFile(path: string, o: KubeconfigOptions): string {
  writeFileSync(path, kubeconfigYaml(o), {mode: 0o600})
  return path
}
