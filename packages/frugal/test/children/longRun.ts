/** Child process of trainStep.longrun.test.ts: `longRun.ts NAME STEPS AT,AT,…` prints one JSON line per sample, then a summary. */
import { run } from '../support/longRun'

const [name, steps, at] = process.argv.slice(2)
const out = run(name, Number(steps), at.split(',').map(Number), (s) => process.stdout.write(JSON.stringify(s) + '\n'))
process.stdout.write(JSON.stringify({ done: true, mode: out.mode, refreshes: out.refreshes, cacheSize: out.cacheSize }) + '\n')
