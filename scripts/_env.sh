# Shared by scripts/*: a virtual environment with the locked dependencies, compiled catalogs.
# Needs only Python 3.11+ (python3, or $PYTHON) and bash.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Bytecode caching matters: without it every Django start recompiles ~2k modules (+2.5 s).
unset PYTHONDONTWRITEBYTECODE
PYTHON="${PYTHON:-python3}"
VENV=.venv
BIN="$VENV/bin"

setup() {
  if [ ! -x "$BIN/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
      || { echo "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)." >&2; exit 1; }
    "$PYTHON" -m venv "$VENV"
  fi
  if [ ! -f "$VENV/.installed" ] || [ requirements.lock -nt "$VENV/.installed" ] || [ pyproject.toml -nt "$VENV/.installed" ]; then
    "$BIN/python" -m pip install -q --disable-pip-version-check uv==0.13.8
    "$BIN/uv" pip install --python "$BIN/python" -q --compile-bytecode -r requirements.lock
    "$BIN/uv" pip install --python "$BIN/python" -q --no-deps -e .
    touch "$VENV/.installed"
  fi
  npm_setup
  "$BIN/python" manage.py compile_catalogs
}

# Front-end libraries (Chart.js, htmx) come from the npm registry at the versions package-lock.json pins and
# are served as static files from node_modules/ (see STATICFILES_DIRS): no CDN, so offline deployments work.
npm_setup() {
  if [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; then
    return 0
  fi
  command -v npm >/dev/null 2>&1 \
    || { echo "npm (Node.js 18+) is needed to install the front-end libraries (package.json)." >&2; exit 1; }
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
}

# Browser tests (tests/browser) drive Debian's Chromium, never a browser downloaded by `playwright install`.
# Installed here when missing and we can (root with apt-get); otherwise those tests skip and say why.
browser_setup() {
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests..." >&2
    # A fresh image has no package lists: update only when the first attempt fails.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; } \
      || echo "Could not install chromium: the browser tests will be skipped." >&2
  else
    echo "/usr/bin/chromium is missing (install Debian's chromium package): the browser tests will be skipped." >&2
  fi
}
