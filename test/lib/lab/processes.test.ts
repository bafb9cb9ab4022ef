import {describe, expect, it} from 'vitest'
import {MARKER_ENV, hasEnvMarker, hasMarker} from '../../../src/lib/lab/processes.js'

describe('lab process markers', () => {
  it('finds the marker in argv (knet helpers) or in the environment (upstream programs)', () => {
    expect(hasMarker(['node', 'responder.js', '--knetlab-marker', 'knetlab-a-', 'web-1-1'], 'knetlab-a-')).toBe(true)
    expect(hasMarker(['kube-proxy', '--config=x'], 'knetlab-a-')).toBe(false)
    expect(MARKER_ENV).toBe('KNETLAB_MARKER')
    expect(hasEnvMarker('PATH=/bin\0KNETLAB_MARKER=knetlab-a-\0NODE_NAME=node-1\0', 'knetlab-a-')).toBe(true)
    // Exactly this lab's marker: lab "a" never claims lab "a-b"'s programs.
    expect(hasEnvMarker('KNETLAB_MARKER=knetlab-a-b-\0', 'knetlab-a-')).toBe(false)
    expect(hasEnvMarker('', 'knetlab-a-')).toBe(false)
  })
})
