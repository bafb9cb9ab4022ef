/**
 * Vitest awaits each test, but a synchronous test (spawnSync CLI runs, fast-check loops) never lets
 * the worker's event loop turn: after a long enough run of them, replies from the main process sit
 * unread until the worker's 60 s RPC timer fires ("Timeout calling onTaskUpdate"). One turn of the
 * loop after every test keeps that channel served.
 */
import {afterEach} from 'vitest'

afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)))
