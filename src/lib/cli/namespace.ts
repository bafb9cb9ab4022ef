/**
 * The namespace a bare NAME belongs to, as kubectl decides it: -n/--namespace, else the namespace
 * the kubeconfig context names (the current one, or --context's), else "default". The context is
 * consulted only when knet reads the API through that kubeconfig: a snapshot, an objects file or a
 * lab is not the context's cluster, so there a bare NAME is in "default".
 */
export interface NamespaceFlags {
  namespace?: string
  kubeconfig?: string
  context?: string
  snapshot?: string
  objects?: string
  lab?: string
}

export const DEFAULT_NAMESPACE = 'default'

export async function resolveNamespace(flags: NamespaceFlags, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (flags.namespace !== undefined) return flags.namespace
  if (flags.snapshot !== undefined || flags.objects !== undefined || flags.lab !== undefined) return DEFAULT_NAMESPACE
  // Loaded only here: client-node is heavy, and a run with -n or a snapshot never needs it.
  const {contextNamespace} = await import('../gather/cluster/kubeconfig.js')
  return contextNamespace({kubeconfig: flags.kubeconfig, context: flags.context, env}) ?? DEFAULT_NAMESPACE
}
