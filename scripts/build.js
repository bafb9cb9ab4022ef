#!/usr/bin/env node
/**
 * `npm run build`: compile src/ to dist/ with tsc, then write oclif.manifest.json from what was
 * compiled (scripts/oclif-manifest.js). The old manifest is removed first, and the new one is
 * written even when tsc reports type errors (tsc still emits, and dist/ is what runs), so the
 * manifest always describes the dist/ next to it; the build still fails with tsc's exit code.
 */
import {spawnSync} from 'node:child_process'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const manifest = fileURLToPath(new URL('oclif-manifest.js', import.meta.url))
const run = (args) => spawnSync(process.execPath, args, {cwd: root, stdio: 'inherit'}).status ?? 1

if (run([manifest, '--remove']) !== 0) process.exit(1)
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const status = run([tsc, '-p', 'tsconfig.json'])
const written = run([manifest])
process.exitCode = status !== 0 ? status : written
