/**
 * Names for what tests create outside their own temp folders — lab names (every lab namespace and
 * process marker derives from one), throwaway users, interfaces in the root namespace. CI must
 * pass with a second CI run going on the same machine, so no such name may be fixed: each carries
 * this process's id (unique among the processes running now) and a random character (so it is not
 * the name a killed earlier run, whose id was reused, left behind).
 */
import {validateLabName} from '../../src/lib/lab/plan.js'

const random = Math.floor(Math.random() * 36).toString(36)

/** Base-36 process id plus one random character: at most 6 characters (pid_max is at most 2^22). */
export const RUN_SUFFIX = `${process.pid.toString(36)}${random}`

/**
 * A lab name for this test process: `TAG-SUFFIX`, at most 12 characters (the lab name limit), so
 * TAG has at most 5. Two test files must not share a tag.
 */
export function uniqueLabName(tag: string): string {
  return validateLabName(`${tag}-${RUN_SUFFIX}`)
}
