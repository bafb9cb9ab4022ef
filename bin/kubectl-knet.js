#!/usr/bin/env node
// kubectl runs any executable named kubectl-NAME on PATH as `kubectl NAME` (krew installs plugins
// this way), so `kubectl knet doctor -n shop` execs this file with ["doctor", "-n", "shop"]. It is
// knet itself: the same commands, flags and exit codes; help and examples still say `knet`.
import './run.js'
