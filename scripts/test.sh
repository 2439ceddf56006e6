#!/usr/bin/env bash
# `pnpm test`: type-check every package, then run every test. Under no display,
# the run goes through xvfb-run when it is installed, so gpu.js's headless-gl
# mode is tested for real (its tests skip, saying why, where neither exists).
set -euo pipefail
cd "$(dirname "$0")/.."
tsc -b
# the examples and benchmarks are not project references (they emit nothing): check them on their own
tsc -p examples/llama/tsconfig.json
tsc -p examples/tfjs-layers/tsconfig.json
tsc -p bench/tsconfig.json --noEmit
tsc -p test-browser
run=(vitest run)
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then run=(xvfb-run -a vitest run); fi
"${run[@]}" "$@"
# the backends in headless Chromium (WebGL2, WebGPU on SwiftShader): skips, saying why, without /usr/bin/chromium
vitest run --config vitest.browser.config.ts
