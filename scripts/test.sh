#!/usr/bin/env bash
# `pnpm test`: type-check every package, then run every test. Under no display,
# the run goes through xvfb-run when it is installed, so gpu.js's headless-gl
# mode is tested for real (its tests skip, saying why, where neither exists).
# Under CI=true nothing skips: a missing display, headless-gl, Chromium, WebGL2
# or WebGPU adapter fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
tsc -b
# the examples and benchmarks are not project references (they emit nothing): check them on their own
tsc -p examples/llama/tsconfig.json
tsc -p examples/basics/tsconfig.json
tsc -p examples/web/tsconfig.json
tsc -p examples/tfjs-layers/tsconfig.json
tsc -p bench/tsconfig.json --noEmit
tsc -p test-browser
case "${CI:-}" in '' | 0 | false) ci= ;; *) ci=1 ;; esac
run=(vitest run)
if [ -z "${DISPLAY:-}" ] && command -v xvfb-run >/dev/null 2>&1; then run=(xvfb-run -a vitest run)
elif [ -z "${DISPLAY:-}" ] && [ -n "$ci" ]; then
  echo "scripts/test.sh: CI=true but there is no DISPLAY and no xvfb-run (apt-get install -y xvfb xauth): gpu.js's headless-gl tests cannot run" >&2
  exit 1
fi
"${run[@]}" "$@"
# the backends in headless Chromium (WebGL2, WebGPU on SwiftShader): skips, saying why, without /usr/bin/chromium
# (fails under CI=true)
vitest run --config vitest.browser.config.ts
