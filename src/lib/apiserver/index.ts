/** The stand-in Kubernetes API server: see server.ts. Used by tests, benchmarks and `knet lab`. */
export {startApiServer, type ApiServer, type ApiServerFaults, type ApiServerOptions, type LoggedRequest, type PodSummary} from './server.js'
export {execStatus, type ExecContext, type ExecHook, type ExecResult} from './exec.js'
export {netnsExecHook, notFoundError, type NetnsExecOptions} from './exec-netns.js'
export {generateCluster, type GenerateOptions} from './generate.js'
export {objectsFromYaml, objectsFromYamlFile} from './load.js'
export {kubeconfigYaml, writeKubeconfigFile, type KubeconfigOptions} from './kubeconfig.js'
export {testCerts, type TestCerts} from './certs.js'
