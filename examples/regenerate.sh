#!/usr/bin/env bash
# Regenerates examples/lab-incident.json.gz: a snapshot that knet captured from its own lab (3 nodes,
# VXLAN) with three faults injected, so `knet doctor --snapshot` shows real findings with real
# evidence without a cluster. Needs Linux and root (it builds the lab in network namespaces).
#   sudo examples/regenerate.sh
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
export KNET_LAB_DIR
KNET_LAB_DIR=$(mktemp -d)
lab=example
trap './bin/run.js lab down --name "$lab" >/dev/null 2>&1 || true; rm -rf "$KNET_LAB_DIR"' EXIT

./bin/run.js lab up --name "$lab" --nodes 3 --pods-per-node 2 --topology vxlan
# The incident: node-1 lost its route to node-3's pods, an endpoint pod of svc/web was deleted
# but kube-proxy kept its DNAT rules, and br_netfilter's sysctl was reset to 0 on node-2.
./bin/run.js lab break missing-route --name "$lab" --node node-1 --target node-3
./bin/run.js lab break stale-nat --name "$lab"
./bin/run.js lab break bridge-nf-off --name "$lab" --node node-2
./bin/run.js snapshot --lab "$lab" -o examples/lab-incident.json.gz
./bin/run.js doctor --snapshot examples/lab-incident.json.gz || true
