#!/usr/bin/env bash
# The generated backend against the FastAPI full-stack template's backend (the peer in
# ../shared/peers/fsft, see its README), side by side in one run on this machine:
#
#   - one PostgreSQL 15 on loopback (a throwaway cluster), one database per backend;
#   - both backends in production mode, each with its production server and access log as shipped:
#     each generated flavour with the command of its backend/Dockerfile.prod (only --bind and
#     --workers changed: granian for Quart; gunicorn with gunicorn.conf.py, gevent workers, for
#     Flask), the peer with `uvicorn app.main:app --workers N` (its README);
#   - Python 3.13 for both (the peer needs it; the generated backend supports >= 3.11);
#   - one user per backend owning 50 items, created through each API; a Bearer token from login;
#   - `wrk -t2 -c50 --latency` on GET health and on the authenticated list of 20 items, in
#     interleaved rounds (each round runs every backend on every endpoint, the order alternating
#     between rounds), at 1 worker and then 2 workers;
#   - a login row: correct-password logins with 4 connections (throughput bound by the hash) and a
#     flood of wrong passwords with 50 connections (the limiter must answer fast 429s).
#
# Prints a Markdown table (best round per backend and endpoint: req/s, p50, p99, errors) and the
# ratios generated/peer, for docs/benchmarks.md.
#
# usage: bench/backend/run.sh [--rounds N] [--duration S] [--workers "1 2"] [--no-login]
#   FSI=path/to/fsi     use this binary instead of building target/release/fsi
#   FLAVOURS="quart flask"  the generated flavours to measure (default both: Quart served by granian,
#                       Flask by gunicorn with its gunicorn.conf.py and gevent workers)
#   KEEP=1              leave the servers and PostgreSQL running at the end (prints their pids)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
ROUNDS=2
DURATION=10
WORKERS="1 2"
LOGIN=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --no-login) LOGIN=0; shift ;;
    *) echo "usage: $0 [--rounds N] [--duration S] [--workers \"1 2\"] [--no-login]" >&2; exit 2 ;;
  esac
done
FLAVOURS=${FLAVOURS:-quart flask}
PEER_SRC=${PEER_SRC:-$ROOT/../../shared/peers/fsft}
[ -d "$PEER_SRC/backend" ] || PEER_SRC=/work/shared/peers/fsft
WORK=$ROOT/bench/work/backend
export SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
PGBIN=/usr/lib/postgresql/15/bin

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v uv >/dev/null || python3 -m pip install -q uv
[ -x "$PGBIN/initdb" ] || { apt-get update -qq && apt-get install -y -qq postgresql >/dev/null; }
PY313=$(pyenv prefix 3.13.0 2>/dev/null)/bin/python3
[ -x "$PY313" ] || { echo "Python 3.13 is required (pyenv's 3.13.0)" >&2; exit 3; }
if [ -z "${FSI:-}" ]; then
  cargo build --release -q
  FSI=$ROOT/target/release/fsi
fi

free_port() { "$PY313" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PIDS=()
PGDIR=""
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then
    echo "KEEP=1: servers left running: ${PIDS[*]} (PostgreSQL in $PGDIR)"
    return
  fi
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$PGDIR" ] && [ -f "$PGDIR/data/postmaster.pid" ]; then
    su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -m fast stop" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$WORK"
# -- PostgreSQL: one throwaway cluster, default configuration (fsync off: nothing here is kept) ----
PGDIR=$(mktemp -d /tmp/fsi-bench-pg.XXXXXX)
chown postgres:postgres "$PGDIR"
PGPORT=$(free_port)
su postgres -c "$PGBIN/initdb -D $PGDIR/data -U app -A trust --no-sync" >/dev/null
su postgres -c "$PGBIN/pg_ctl -D $PGDIR/data -l $PGDIR/log -w -o '-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR -c fsync=off' start" >/dev/null
for db in peer gen_quart gen_flask; do
  su postgres -c "$PGBIN/createdb -h 127.0.0.1 -p $PGPORT -U app $db"
done
echo "PostgreSQL $($PGBIN/postgres --version | awk '{print $3}') on 127.0.0.1:$PGPORT"

# -- the peer: a scratch copy with the three Python 3.14 lines made 3.13 (its README) -----------
PEER=$WORK/peer
if [ ! -x "$PEER/.venv/bin/uvicorn" ]; then
  rm -rf "$PEER"
  mkdir -p "$PEER"
  cp -r "$PEER_SRC/backend" "$PEER_SRC/requirements-pinned.txt" "$PEER/"
  chmod -R u+w "$PEER"
  sed -i 's/except InvalidTokenError, ValidationError:/except (InvalidTokenError, ValidationError):/' "$PEER/backend/app/api/deps.py"
  sed -i 's/list\[Item\] = Relationship(/list["Item"] = Relationship(/; s/owner: User | None = Relationship(/owner: Optional["User"] = Relationship(/' "$PEER/backend/app/models.py"
  grep -q '^from typing import.*Optional' "$PEER/backend/app/models.py" || sed -i '1i from typing import Optional' "$PEER/backend/app/models.py"
  mkdir -p "$PEER/backend/app/frontend" && echo '<!doctype html><title>stub</title>' > "$PEER/backend/app/frontend/index.html"
  (cd "$PEER" && uv venv -q -p "$PY313" .venv && uv pip install -q --python .venv/bin/python -r requirements-pinned.txt)
fi
PEER_PASSWORD=bench-peer-Password-42
PEER_ENV=(PYTHONPATH="$PEER/backend" PROJECT_NAME=bench SECRET_KEY=bench-secret-key-0123456789abcdef0123456789
  FIRST_SUPERUSER=admin@example.com FIRST_SUPERUSER_PASSWORD=$PEER_PASSWORD
  DATABASE_URL="postgresql://app@127.0.0.1:$PGPORT/peer" ENVIRONMENT=production)
(cd "$PEER/backend" && env "${PEER_ENV[@]}" ../.venv/bin/alembic upgrade head >/dev/null 2>&1 && env "${PEER_ENV[@]}" ../.venv/bin/python -m app.initial_data >/dev/null 2>&1)

# -- the generated backend(s): rendered by this fsi, dependencies resolved by uv as `uv sync` does -
GEN=$WORK/gen
rm -rf "$GEN"
mkdir -p "$GEN"
JWT_SECRET=$("$PY313" -c 'import secrets; print(secrets.token_urlsafe(48))')
render_flavour() { # $1 = flavour
  case "$1" in
    quart|flask) "$FSI" new "$GEN/$1/bench" --yes --no-git --no-types --backend "$1" >/dev/null ;;
    *) echo "unknown flavour $1 (quart, flask)" >&2; return 2 ;;
  esac
  local backend="$GEN/$1/bench/backend"
  (cd "$backend" && UV_PROJECT_ENVIRONMENT="$backend/.venv" uv sync -q --no-dev -p "$PY313")
}
gen_env() { # $1 = flavour: the environment of its server and migrations, one VAR=value a line
  printf '%s\n' APP_ENV=production "JWT_SECRET=$JWT_SECRET" "DATABASE_URL=postgresql+asyncpg://app@127.0.0.1:$PGPORT/gen_$1" \
    "PATH=$GEN/$1/bench/backend/.venv/bin:$PATH"
}
# The production command: the CMD of backend/Dockerfile.prod with --bind/--workers replaced (Quart:
# granian's flags; Flask: gunicorn with `--config gunicorn.conf.py`, where the worker class,
# gevent, and every other setting stay as shipped; --workers is added, overriding the file's
# WEB_CONCURRENCY default).
gen_command() { # $1 = flavour, $2 = port, $3 = workers
  "$PY313" - "$GEN/$1/bench/backend/Dockerfile.prod" "$2" "$3" <<'PY'
import json, re, shlex, sys
text = open(sys.argv[1]).read()
cmd = json.loads(re.search(r"^CMD (\[.*\])\s*$", text, re.M).group(1))
out = []
it = iter(cmd)
for arg in it:
    if arg in ("--bind", "-b"):
        next(it); out += [arg, f"127.0.0.1:{sys.argv[2]}"]
    elif arg in ("--workers", "-w"):
        next(it); out += [arg, sys.argv[3]]
    elif arg.startswith("--port"):
        next(it); out += ["--host", "127.0.0.1", "--port", sys.argv[2]]
    elif arg == "--host":
        next(it)
    else:
        out.append(arg)
if out[0] == "gunicorn" and "--workers" not in out and "-w" not in out:
    out[1:1] = ["--workers", sys.argv[3]]
print(shlex.join(out))
PY
}
for flavour in $FLAVOURS; do
  render_flavour "$flavour"
  (cd "$GEN/$flavour/bench/backend" && mapfile -t e < <(gen_env "$flavour") && env "${e[@]}" alembic upgrade head >/dev/null 2>&1)
done

# -- servers ---------------------------------------------------------------------------------------
wait_http() { # url, pid
  for _ in $(seq 300); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { echo "server for $1 exited" >&2; return 1; }
    sleep 0.1
  done
  echo "timeout waiting for $1" >&2; return 1
}
start_peer() { # workers → PEER_PID, PEER_PORT
  PEER_PORT=$(free_port)
  (cd "$PEER/backend" && exec env "${PEER_ENV[@]}" ../.venv/bin/uvicorn app.main:app --host 127.0.0.1 --port "$PEER_PORT" --workers "$1") >"$WORK/peer.log" 2>&1 &
  PEER_PID=$!
  PIDS+=("$PEER_PID")
  wait_http "http://127.0.0.1:$PEER_PORT/api/v1/utils/health-check/" "$PEER_PID"
}
declare -A GEN_PID GEN_PORT
start_gen() { # flavour, workers
  local port cmd
  port=$(free_port)
  cmd=$(gen_command "$1" "$port" "$2")
  (cd "$GEN/$1/bench/backend" && mapfile -t e < <(gen_env "$1") && eval "exec env \"\${e[@]}\" $cmd") >"$WORK/gen-$1.log" 2>&1 &
  GEN_PID[$1]=$!
  GEN_PORT[$1]=$port
  PIDS+=("$!")
  wait_http "http://127.0.0.1:$port/health" "$!"
}
stop_pid() { kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# -- data: one user with 50 items per backend, through the APIs ------------------------------------
GEN_PASSWORD=bench-gen-Password-42
seed() { # target key: peer | quart ...
  "$PY313" - "$@" <<'PY'
import json, sys, urllib.request, urllib.parse
kind, base, password = sys.argv[1:4]
def call(method, path, body=None, token=None, form=False):
    headers = {}
    data = None
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode(); headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode(); headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
if kind == "peer":
    st, body = call("POST", "/api/v1/login/access-token", {"username": "admin@example.com", "password": password}, form=True)
    assert st == 200, (st, body)
    token = body["access_token"]
    st, body = call("GET", "/api/v1/items/?skip=0&limit=20", token=token)
    have = body["count"]
    for i in range(have, 50):
        st, b = call("POST", "/api/v1/items/", {"title": f"item {i}", "description": "a bench item"}, token=token)
        assert st == 200, (st, b)
    st, body = call("GET", "/api/v1/items/?skip=0&limit=20", token=token)
    assert body["count"] == 50 and len(body["data"]) == 20, body
else:
    user = {"email": "bench@example.com", "password": password}
    st, body = call("POST", "/api/auth/login", user)
    if st != 200:
        st, body = call("POST", "/api/auth/register", {**user, "display_name": "Bench"})
        assert st in (200, 201), (st, body)
    token = body["data"]["access_token"]
    st, body = call("GET", "/api/items?page=1&page_size=20", token=token)
    have = body["data"]["total"]
    for i in range(have, 50):
        st, b = call("POST", "/api/items", {"title": f"item {i}", "description": "a bench item", "price": "9.90", "status": "active"}, token=token)
        assert st == 201, (st, b)
    st, body = call("GET", "/api/items?page=1&page_size=20", token=token)
    assert body["data"]["total"] == 50 and len(body["data"]["items"]) == 20, body
print(token)
PY
}

# -- load ------------------------------------------------------------------------------------------
cat > "$WORK/status.lua" <<'LUA'
-- Counts responses per status code; the summary prints them as one line `statuses {"200": n, ...}`.
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {} end
function response(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%d": %d', k, v)) end
  io.write("statuses {" .. table.concat(parts, ", ") .. "}\n")
end
LUA
cat > "$WORK/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = os.getenv("WRK_TYPE")
LUA
cat "$WORK/status.lua" >> "$WORK/post.lua"

RESULTS=$WORK/results.jsonl
: > "$RESULTS"
# Before every measured run: wait until the backend answers that URL within 2 s again (a
# backend may still be working off the previous run's backlog: the peer's pool waits up to 30 s).
settle() { # url [header]
  local waited=0
  while ! curl -fsS -m 2 -o /dev/null ${2:+-H "$2"} "$1" 2>/dev/null; do
    waited=$((waited + 1)); [ "$waited" -ge 90 ] && { echo "  (still not answering after 90 s: measuring anyway)"; break; }
    sleep 1
  done
  [ "$waited" -gt 0 ] && echo "  (waited ${waited} s for $1 to answer again)"
  return 0
}
# The CPU seconds used so far by a process and its descendants (user + system, from /proc).
cat > "$WORK/tree_cpu.py" <<'PY'
import os


def tree_cpu(root: int) -> float:
    procs = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                f = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            procs[int(p)] = (int(f[1]), int(f[11]) + int(f[12]))
    tree, grew = {root}, True
    while grew:
        grew = False
        for p, (pp, _) in procs.items():
            if pp in tree and p not in tree:
                tree.add(p)
                grew = True
    return sum(procs[p][1] for p in tree if p in procs) / os.sysconf("SC_CLK_TCK")


if __name__ == "__main__":
    import sys

    print(tree_cpu(int(sys.argv[1])))
PY
tree_cpu() { "$PY313" "$WORK/tree_cpu.py" "$1"; }
# Wait until a server's process tree uses less than 5 % of a core (at most 120 s).
quiesce() { # pid
  PYTHONPATH="$WORK" "$PY313" - "$1" <<'PY'
import sys, time
from tree_cpu import tree_cpu
root = int(sys.argv[1])
start = time.monotonic()
last = tree_cpu(root)
while time.monotonic() - start < 120:
    time.sleep(1)
    now = tree_cpu(root)
    if now - last < 0.05:
        break
    last = now
waited = time.monotonic() - start
if waited > 1.5:
    print(f"  (waited {waited:.0f} s for pid {root} to go idle)")
PY
}
# run_wrk label backend endpoint workers connections url [header]  (appends one JSON line)
run_wrk() {
  local label=$1 backend=$2 endpoint=$3 workers=$4 conns=$5 url=$6 header=${7:-} script=${WRK_SCRIPT:-$WORK/status.lua}
  local out
  [ "$endpoint" = health ] || [ "$endpoint" = list ] && settle "$url" "$header"
  local cpu_before cpu_after
  cpu_before=$(tree_cpu "$(backend_pid "$backend")")
  if [ -n "$header" ]; then
    out=$(wrk -t2 -c"$conns" -d"${DURATION}s" --timeout 10s --latency -s "$script" -H "$header" "$url" 2>&1 || true)
  else
    out=$(wrk -t2 -c"$conns" -d"${DURATION}s" --timeout 10s --latency -s "$script" "$url" 2>&1 || true)
  fi
  cpu_after=$(tree_cpu "$(backend_pid "$backend")")
  printf '%s\n' "$out" > "$WORK/last-wrk.txt"
  "$PY313" - "$label" "$backend" "$endpoint" "$workers" "$conns" "$cpu_before" "$cpu_after" <<PY >> "$RESULTS"
import json, re, sys
out = open("$WORK/last-wrk.txt").read()
label, backend, endpoint, workers, conns = sys.argv[1:6]
server_cpu = float(sys.argv[7]) - float(sys.argv[6])
def ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)", s)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 1e-3, "ms": 1, "s": 1e3, "m": 6e4}[u]
m = re.search(r"Requests/sec:\s+([\d.]+)", out)
rps = float(m.group(1)) if m else 0.0
lat = dict(re.findall(r"^\s+(50|99)%\s+(\d\S*)", out, re.M))
sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
socket_errors = sum(map(int, sock.groups())) if sock else 0
m = re.search(r"statuses (\{.*\})", out)
statuses = json.loads(m.group(1)) if m else {}
m = re.search(r"(\d+) requests in", out)
done = int(m.group(1)) if m else 0
# The server's CPU per answered request (its whole process tree, ms): what throughput converges
# to when the server is the bottleneck, and far steadier than req/s on a shared machine.
cpu_ms = 1000 * server_cpu / done if done else None
print(json.dumps({"cpu_ms": cpu_ms, "label": label, "backend": backend, "endpoint": endpoint, "workers": int(workers),
                  "connections": int(conns), "rps": rps, "p50": ms(lat["50"]) if "50" in lat else None,
                  "p99": ms(lat["99"]) if "99" in lat else None,
                  "socket_errors": socket_errors, "statuses": statuses}))
PY
  tail -1 "$RESULTS" | "$PY313" -c '
import json, sys
r = json.loads(sys.stdin.read())
f = lambda v: "      -" if v is None else "%7.1f" % v
print("  %-7s %-6s %-7s w=%d c=%d: %8.1f req/s  p50 %s ms  p99 %s ms  cpu/req %s ms  statuses %s  socket errors %d" % (
    r["label"], r["backend"], r["endpoint"], r["workers"], r["connections"], r["rps"], f(r["p50"]), f(r["p99"]),
    "-" if r["cpu_ms"] is None else "%.3f" % r["cpu_ms"], r["statuses"], r["socket_errors"]))'
}

for w in $WORKERS; do
  echo "== $w worker(s)"
  start_peer "$w"
  PEER_TOKEN=$(seed peer "http://127.0.0.1:$PEER_PORT" "$PEER_PASSWORD")
  declare -A GEN_TOKEN
  for flavour in $FLAVOURS; do
    start_gen "$flavour" "$w"
    GEN_TOKEN[$flavour]=$(seed "$flavour" "http://127.0.0.1:${GEN_PORT[$flavour]}" "$GEN_PASSWORD")
  done
  url() { # backend endpoint
    if [ "$1" = peer ]; then
      case "$2" in health) echo "http://127.0.0.1:$PEER_PORT/api/v1/utils/health-check/" ;; list) echo "http://127.0.0.1:$PEER_PORT/api/v1/items/?skip=0&limit=20" ;; esac
    else
      case "$2" in health) echo "http://127.0.0.1:${GEN_PORT[$1]}/health" ;; list) echo "http://127.0.0.1:${GEN_PORT[$1]}/api/items?page=1&page_size=20" ;; esac
    fi
  }
  auth() { if [ "$1" = peer ]; then echo "Authorization: Bearer $PEER_TOKEN"; else echo "Authorization: Bearer ${GEN_TOKEN[$1]}"; fi; }
  BACKENDS=(peer $FLAVOURS)
  backend_pid() { if [ "$1" = peer ]; then echo "$PEER_PID"; else echo "${GEN_PID[$1]}"; fi; }
  # Warm-up (not recorded): 3 s on each backend and endpoint.
  for b in "${BACKENDS[@]}"; do
    wrk -t2 -c50 -d3s "$(url "$b" health)" >/dev/null 2>&1 || true
    wrk -t2 -c50 -d3s -H "$(auth "$b")" "$(url "$b" list)" >/dev/null 2>&1 || true
  done
  for r in $(seq "$ROUNDS"); do
    order=("${BACKENDS[@]}")
    if [ $((r % 2)) = 0 ]; then order=(); for ((i=${#BACKENDS[@]}-1; i>=0; i--)); do order+=("${BACKENDS[$i]}"); done; fi
    for endpoint in health list; do
      for b in "${order[@]}"; do
        quiesce "$(backend_pid "$b")"
        if [ "$endpoint" = list ]; then run_wrk "round$r" "$b" list "$w" 50 "$(url "$b" list)" "$(auth "$b")"
        else run_wrk "round$r" "$b" health "$w" 50 "$(url "$b" health)"; fi
      done
    done
  done
  if [ "$LOGIN" = 1 ] && [ "$w" = "$(echo $WORKERS | awk '{print $1}')" ]; then
    # Login: right password, 4 connections (each login hashes once: bound by argon2), then a flood of
    # wrong passwords for one account from 50 connections (the limiter should answer 429 at once).
    login_args() { # backend → lurl type good bad
      if [ "$1" = peer ]; then
        lurl="http://127.0.0.1:$PEER_PORT/api/v1/login/access-token"; type=application/x-www-form-urlencoded
        good="username=admin%40example.com&password=$PEER_PASSWORD"; bad="username=admin%40example.com&password=wrong-password"
      else
        lurl="http://127.0.0.1:${GEN_PORT[$1]}/api/auth/login"; type=application/json
        good="{\"email\":\"bench@example.com\",\"password\":\"$GEN_PASSWORD\"}"; bad='{"email":"bench@example.com","password":"wrong-password"}'
      fi
    }
    # A backend may keep hashing a flood's backlog after wrk stops (the peer's thread pool does):
    # before the next row, wait until every backend is idle again, so no row pays for another's.
    for b in "${BACKENDS[@]}"; do quiesce "$(backend_pid "$b")"; done
    for b in "${BACKENDS[@]}"; do
      login_args "$b"
      WRK_SCRIPT=$WORK/post.lua WRK_TYPE=$type WRK_BODY=$good run_wrk login "$b" login "$w" 4 "$lurl"
      quiesce "$(backend_pid "$b")"
    done
    for b in "${BACKENDS[@]}"; do
      login_args "$b"
      WRK_SCRIPT=$WORK/post.lua WRK_TYPE=$type WRK_BODY=$bad run_wrk flood "$b" flood "$w" 50 "$lurl"
      quiesce "$(backend_pid "$b")"
    done
  fi
  stop_pid "$PEER_PID"
  for flavour in $FLAVOURS; do stop_pid "${GEN_PID[$flavour]}"; done
done

"$PY313" - "$RESULTS" "$FLAVOURS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
flavours = sys.argv[2].split()
def fmt(v):
    return "—" if v is None else f"{v:,.1f} ms"
def errors(r):
    ok = sum(v for k, v in r["statuses"].items() if k.startswith("2"))
    return sum(r["statuses"].values()) - ok + r["socket_errors"]
def best(backend, endpoint, workers):
    c = [r for r in rows if r["backend"] == backend and r["endpoint"] == endpoint and r["workers"] == workers and r["label"].startswith("round")]
    return max(c, key=lambda r: r["rps"]) if c else None
def cpu(r):
    return "—" if r.get("cpu_ms") is None else f"{r['cpu_ms']:.2f} ms"
print("\n| workers | endpoint | backend | req/s (best round) | p50 | p99 | server CPU / request | errors | ratio to peer |")
print("|---|---|---|---|---|---|---|---|---|")
for w in sorted({r["workers"] for r in rows}):
    for e in ("health", "list"):
        peer = best("peer", e, w)
        for b in ["peer", *flavours]:
            r = best(b, e, w)
            if not r:
                continue
            ratio = f"{r['rps'] / peer['rps']:.2f}×" if peer and b != "peer" else ""
            print(f"| {w} | {e} | {b} | {r['rps']:,.0f} | {fmt(r['p50'])} | {fmt(r['p99'])} | {cpu(r)} | {errors(r)} | {ratio} |")
for r in rows:
    if r["label"] in ("login", "flood"):
        print(f"| {r['workers']} | {r['label']} (c={r['connections']}) | {r['backend']} | {r['rps']:,.1f} | {fmt(r['p50'])} | {fmt(r['p99'])} | {cpu(r)} | statuses {r['statuses']}, socket errors {r['socket_errors']} | |")
print("\nPer-round ratios (generated / peer, same round):")
for w in sorted({r["workers"] for r in rows}):
    for e in ("health", "list"):
        for f in flavours:
            ratios = []
            for lab in sorted({r["label"] for r in rows if r["label"].startswith("round")}):
                p = [r for r in rows if r["label"] == lab and r["backend"] == "peer" and r["endpoint"] == e and r["workers"] == w]
                g = [r for r in rows if r["label"] == lab and r["backend"] == f and r["endpoint"] == e and r["workers"] == w]
                if p and g:
                    cpu = (p[0]["cpu_ms"] / g[0]["cpu_ms"]) if p[0].get("cpu_ms") and g[0].get("cpu_ms") else None
                    ratios.append((g[0]["rps"] / p[0]["rps"], cpu))
            if ratios:
                print(f"  workers {w} {e:6s} {f}: req/s " + ", ".join(f"{x:.2f}×" for x, _ in ratios)
                      + "; peer's CPU per request / ours " + ", ".join("-" if c is None else f"{c:.2f}×" for _, c in ratios))
PY
