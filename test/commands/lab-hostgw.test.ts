import {labMatrixSuite} from '../lib/lab/lab-harness.js'

labMatrixSuite('host-gw', 'thg')
