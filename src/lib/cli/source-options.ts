/**
 * The analysis commands' source flags (doctor, trace) → the options of resolveAnalysisSnapshot, in
 * one place, so both commands read the cluster and the nodes the same way.
 */
import type {AnalysisSourceOptions} from '../gather/analysis-source.js'
import {podAccessOptions, remoteAccessOptions, type NodeAccessMode, type PodAccessFlags, type RemoteAccessFlags} from './flags.js'

export interface SourceFlags extends PodAccessFlags, RemoteAccessFlags {
  'node-access'?: NodeAccessMode
  snapshot?: string
  lab?: string
  kubeconfig?: string
  context?: string
  objects?: string
  timeout: number
  'netns-map'?: Map<string, string>
  parallel: number
}

export function analysisSourceOptions(
  flags: SourceFlags,
  run: Pick<AnalysisSourceOptions, 'knetVersion' | 'command' | 'onProgress' | 'onNodeProgress'>,
): AnalysisSourceOptions {
  return {
    snapshot: flags.snapshot,
    lab: flags.lab,
    kubeconfig: flags.kubeconfig,
    context: flags.context,
    objects: flags.objects,
    timeoutMs: flags.timeout,
    commandTimeoutMs: flags.timeout,
    nodeAccess: flags['node-access'],
    netnsMap: flags['netns-map'],
    ...remoteAccessOptions(flags),
    ...podAccessOptions(flags),
    parallel: flags.parallel,
    knetVersion: run.knetVersion,
    command: run.command,
    ...(run.onProgress ? {onProgress: run.onProgress} : {}),
    ...(run.onNodeProgress ? {onNodeProgress: run.onNodeProgress} : {}),
  }
}
