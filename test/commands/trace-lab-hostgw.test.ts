import {traceLabSuite} from '../lib/trace/trace-lab-suite.js'

traceLabSuite('host-gw', 'trhgw', 3)
