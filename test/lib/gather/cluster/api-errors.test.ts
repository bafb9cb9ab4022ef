import {describe, expect, it} from 'vitest'
import {ApiException} from '@kubernetes/client-node'
import {ApiHttpError, apiErrorToKnet, parseStatus, type ApiCallContext} from '../../../../src/lib/gather/cluster/api-errors.js'

const ctx: ApiCallContext = {server: 'https://10.0.0.1:6443', verb: 'list', resource: 'pods', timeoutMs: 30_000}

function sysError(code: string, message = `request to https://10.0.0.1:6443/api/v1/pods failed, reason: ${code}`): Error {
  // The shape node-fetch gives client-node: FetchError {type: 'system', code, errno}.
  return Object.assign(new Error(message), {name: 'FetchError', type: 'system', code, errno: code})
}

describe('apiErrorToKnet', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH'])('%s → unreachable naming the server', (code) => {
    const e = apiErrorToKnet(sysError(code), ctx)
    expect([e.kind, e.exitCode, e.message]).toEqual(['unreachable', 3, `cannot reach the API server at https://10.0.0.1:6443 (${code})`])
  })

  it.each([
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'the server certificate is not signed by a trusted CA'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'the server certificate is not signed by a trusted CA'],
    ['CERT_HAS_EXPIRED', 'the server certificate has expired'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'the certificate does not name this host'],
  ])('%s → tls', (code, reason) => {
    const e = apiErrorToKnet(sysError(code), ctx)
    expect([e.kind, e.message]).toEqual(['tls', `TLS handshake with https://10.0.0.1:6443 failed: ${reason}`])
  })

  it('AbortError → timeout naming --timeout', () => {
    const abort = Object.assign(new Error('The operation was aborted.'), {name: 'AbortError', type: 'aborted'})
    expect(apiErrorToKnet(abort, ctx).oneLine()).toBe('list pods on https://10.0.0.1:6443 did not answer within 30s (--timeout) (raise --timeout or check the API server load)')
  })

  it("client-node's ApiException: 403 with the Status body as text", () => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'endpointslices.discovery.k8s.io is forbidden: User "bob" cannot list resource "endpointslices" in API group "discovery.k8s.io" at the cluster scope',
      reason: 'Forbidden',
      details: {group: 'discovery.k8s.io', kind: 'endpointslices'},
      code: 403,
    })
    const e = apiErrorToKnet(new ApiException(403, 'Unknown API Status Code!', body, {}), {...ctx, resource: 'endpointslices.discovery.k8s.io'})
    expect([e.kind, e.verb, e.resource]).toEqual(['forbidden', 'list', 'endpointslices.discovery.k8s.io'])
    expect(e.oneLine()).toBe('not allowed to list endpointslices.discovery.k8s.io at the cluster scope (run `knet rbac` for the ClusterRole knet needs)')
  })

  it("client-node's ApiException: 401 comes without a body", () => {
    const e = apiErrorToKnet(new ApiException(401, 'Unauthorized', undefined, {}), ctx)
    expect([e.kind, e.message]).toEqual(['unauthorized', 'credentials for https://10.0.0.1:6443 were rejected (expired?)'])
  })

  it('404 on a named object → not-found', () => {
    const e = apiErrorToKnet(new ApiHttpError(404, parseStatus('{"kind":"Status","code":404,"reason":"NotFound"}')), {...ctx, verb: 'get', resource: 'configmaps', name: 'kube-system/kube-proxy'})
    expect([e.kind, e.message]).toEqual(['not-found', 'configmaps kube-system/kube-proxy was not found on https://10.0.0.1:6443'])
  })

  it('a plain-HTTP server refused by client-node → bad input with the fix', () => {
    const e = apiErrorToKnet(new Error('HTTP protocol is not allowed when skipTLSVerify is not set or false'), {...ctx, server: 'http://10.0.0.1:8080'})
    expect(e.kind).toBe('bad-input')
    expect(e.exitCode).toBe(2)
  })

  it('a missing exec credential plugin → unauthorized naming the command', () => {
    const spawn = Object.assign(new Error('spawn gke-gcloud-auth-plugin ENOENT'), {code: 'ENOENT', errno: -2, syscall: 'spawn gke-gcloud-auth-plugin', path: 'gke-gcloud-auth-plugin'})
    expect(apiErrorToKnet(spawn, ctx).oneLine()).toBe(
      'the kubeconfig\'s credential plugin "gke-gcloud-auth-plugin" could not be run (ENOENT) (install it or fix users[].user.exec.command in the kubeconfig)',
    )
  })

  it('anything else is internal, one line, exit 3', () => {
    const e = apiErrorToKnet(new Error('boom\nwith a second line'), ctx)
    expect([e.kind, e.exitCode, e.message]).toEqual(['internal', 3, 'list pods on https://10.0.0.1:6443 failed: boom'])
  })

  it('parseStatus reads text, objects and non-JSON bodies', () => {
    expect(parseStatus('404 page not found\n')).toEqual({message: '404 page not found'})
    expect(parseStatus({code: 500, reason: 'InternalError', message: 'x'})).toEqual({code: 500, reason: 'InternalError', message: 'x', details: undefined})
    expect(parseStatus(undefined)).toBeUndefined()
  })
})
