#!/usr/bin/env bash
# Builds the standalone executables saldo-api and saldo-produce into OUT_DIR (default: the repo root).
# Each carries the Bun runtime and every dependency: copy it anywhere and run it, no Bun or
# node_modules needed. Like `bun run`, they read the environment and a .env file in the current folder.
#   scripts/build.sh [OUT_DIR]        (bun run build)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT}
mkdir -p "$OUT"
cd "$ROOT"
# A binary built from a node_modules that is not what the patches make would run other code than this tree's.
bun scripts/check-patches.ts
for name in saldo-api saldo-produce; do
  # bunfig.toml is this repo's install settings, nothing a deployed binary should pick up from its folder.
  bun build --compile --compile-autoload-dotenv --no-compile-autoload-bunfig \
    "src/bin/$name.ts" --outfile "$OUT/$name"
done
