# Sourced by the scripts: installs the pinned Bun when it is missing or another version.
# Bun upgrades have broken kafkajs before, so every machine runs the version in package.json.
BUN_VERSION=$(sed -n 's/.*"packageManager": *"bun@\([^"]*\)".*/\1/p' "$(dirname "${BASH_SOURCE[0]}")/../../package.json")

ensure_bun() {
  export PATH="$HOME/.bun/bin:$PATH"
  if command -v bun >/dev/null 2>&1 && [ "$(bun --version)" = "$BUN_VERSION" ]; then return 0; fi
  command -v npm >/dev/null 2>&1 || {
    echo "Bun $BUN_VERSION is needed and npm is missing to install it: install Node.js/npm, or Bun $BUN_VERSION by hand." >&2
    return 1
  }
  echo "installing Bun $BUN_VERSION with npm…" >&2
  npm install -g --no-fund --no-audit "bun@$BUN_VERSION" >&2
  hash -r
  [ "$(bun --version)" = "$BUN_VERSION" ] || { echo "bun --version is not $BUN_VERSION after installing it" >&2; return 1; }
}

# wrk drives the HTTP figures of the benchmark (bun run bench, and its quick check among the tests).
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "wrk is needed for the benchmark: install it (Debian/Ubuntu: apt-get install -y wrk)" >&2
    return 1
  fi
  echo "installing wrk with apt-get…" >&2
  { apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }; } >&2
}
