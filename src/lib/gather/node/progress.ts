/**
 * What a multi-node gather says as it goes, for a caller that shows progress: the nodes it will
 * read, then each node as it starts and ends. The gather draws nothing and reads no clock for it;
 * whoever listens decides what to show (src/lib/render/node-progress.ts) and when.
 */
export type NodeProgress =
  | {kind: 'plan'; nodes: readonly string[]}
  | {kind: 'start'; node: string}
  | {kind: 'done'; node: string}

export type NodeProgressListener = (event: NodeProgress) => void
