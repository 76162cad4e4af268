# Shared by scripts/dev and scripts/test (sourced, not run).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# uv runs the backend: install it with pip when it is missing.
ensure_uv() {
    if [ -z "${SSL_CERT_FILE:-}" ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        export SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
    fi
    export PATH="$HOME/.local/bin:$PATH"
    command -v uv >/dev/null 2>&1 && return 0
    command -v python3 >/dev/null 2>&1 || die "python3 (3.11 or newer) is required"
    step "installing uv (python3 -m pip install uv)"
    python3 -m pip install --quiet uv \
        || python3 -m pip install --quiet --user uv \
        || python3 -m pip install --quiet --user --break-system-packages uv \
        || die "could not install uv; see https://docs.astral.sh/uv/getting-started/installation/"
    hash -r
    command -v uv >/dev/null 2>&1 || die "uv was installed but is not on PATH"
}

# The frontend's node_modules, from the lockfile when there is one.
ensure_node_modules() {
    command -v npm >/dev/null 2>&1 || die "npm (Node 20 or newer) is required for frontend/"
    if [ "${1:-}" = "--always" ] || [ ! -d "$ROOT/frontend/node_modules" ] \
        || [ "$ROOT/frontend/package.json" -nt "$ROOT/frontend/node_modules" ] \
        || { [ -f "$ROOT/frontend/package-lock.json" ] \
             && [ "$ROOT/frontend/package-lock.json" -nt "$ROOT/frontend/node_modules" ]; }; then
        if [ -f "$ROOT/frontend/package-lock.json" ]; then
            step "frontend: npm ci"
            npm --prefix "$ROOT/frontend" ci
        else
            step "frontend: npm install"
            npm --prefix "$ROOT/frontend" install
        fi
    fi
}
