import {labMatrixSuite} from '../lib/lab/lab-harness.js'

labMatrixSuite('vxlan', 'tvx')
