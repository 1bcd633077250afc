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

# The locked dependencies, then a check that each file our patches touch is as the patch makes it
# (scripts/check-patches.ts: an edit in node_modules also edits Bun's install cache).
install_dependencies() {
  bun install --frozen-lockfile
  bun "$(dirname "${BASH_SOURCE[0]}")/../check-patches.ts"
}

# Installs a Debian package when the command it provides is missing: CI machines start without it.
ensure_debian_tool() {
  local command=$1 package=$2
  if command -v "$command" >/dev/null 2>&1; then return 0; fi
  command -v apt-get >/dev/null 2>&1 || {
    echo "$command is missing and there is no apt-get: install the package that provides it ($package on Debian)." >&2
    return 1
  }
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  echo "installing $package (for $command) with apt-get…" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y --no-install-recommends "$package" >&2 ||
    { $sudo apt-get update >&2 && $sudo apt-get install -y --no-install-recommends "$package" >&2; }
  command -v "$command" >/dev/null 2>&1 || { echo "$command is still missing after installing $package" >&2; return 1; }
}
