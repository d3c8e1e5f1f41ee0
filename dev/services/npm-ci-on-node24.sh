#!/usr/bin/env bash
# The project's `postinstall`: packages are installed as Node 24 installs them, whatever Node ran
# `npm ci` (README, "Prerequisites").
#
# npm leaves out an optional package whose `engines` exclude the Node it runs on, without a word:
# on Debian 12's Node 18 that is vitest's native binding, and the suite then stops before its
# first test. So, on a Node older than 24, this runs `npm ci` once more on the Node 24 that the
# lock file pins, with an npm that runs on it, both installed once in the user's cache; on Node
# 24 or later it does nothing. The npm settings of the first run reach the second through npm's
# own environment.
set -Eeuo pipefail
cd "$(dirname "$0")/../.."

# The Node that runs npm (npm puts the project's own Node 24 first in a script's PATH: `node` here
# would not say which Node installed the packages).
installer=${npm_node_execpath:-node}
major=$("$installer" -p 'process.versions.node.split(".")[0]')
if ((major >= 24)) || [ -n "${ERP_BRIDGE_NODE24_RERUN:-}" ]; then exit 0; fi

# The npm that runs `npm ci` again: one that supports Node 24 (Debian 12's npm 9 relies on its own
# Node's module paths).
NPM_VERSION=11.21.2
version=$(node -p 'require("./package-lock.json").packages["node_modules/node"].version')
dir="${XDG_CACHE_HOME:-$HOME/.cache}/erp-bridge/node-$version-npm-$NPM_VERSION"
if [ "$("$dir/node_modules/.bin/node" --version 2>/dev/null)" != "v$version" ] ||
  [ ! -x "$dir/node_modules/.bin/npm" ]; then
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node@$version" "npm@$NPM_VERSION" >&2
fi
echo "[install] Node $("$installer" --version) is older than 24: npm ci again on Node $version (from $dir), so that every package is installed as Node 24 installs it" >&2
ERP_BRIDGE_NODE24_RERUN=1 PATH="$dir/node_modules/.bin:$PATH" npm ci
