#!/usr/bin/env bash
# Type-sync benchmark: fsi types / fsi types --check vs pydantic-to-typescript (pydantic2ts +
# json-schema-to-typescript) on the make_dto_corpus.py corpus (50 modules, 1,050 models), in one
# hyperfine run. Installs what it needs under bench/work/ (git-ignored). Release build only.
#
# usage: bench/typesync/run.sh [--quick]     (--quick: fewer pydantic2ts runs)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=$ROOT/bench/work/typesync
mkdir -p "$WORK"
export SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
P2TS_RUNS=5
[ "${1:-}" = "--quick" ] && P2TS_RUNS=2

command -v hyperfine >/dev/null || { echo "hyperfine is required (apt-get install hyperfine)" >&2; exit 2; }

echo "==> cargo build --release"
cargo build --release --quiet
FSI=$ROOT/target/release/fsi

echo "==> bench venv (pydantic, pydantic-to-typescript)"
if [ ! -x "$WORK/venv/bin/pydantic2ts" ]; then
  if command -v uv >/dev/null; then
    uv venv -q --allow-existing --python python3 "$WORK/venv"
    uv pip install -q --python "$WORK/venv/bin/python" 'pydantic>=2.11,<3' 'pydantic-to-typescript==2.0.0'
  else
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q 'pydantic>=2.11,<3' 'pydantic-to-typescript==2.0.0'
  fi
fi
echo "==> npm json-schema-to-typescript"
if [ ! -x "$WORK/node/node_modules/.bin/json2ts" ]; then
  mkdir -p "$WORK/node"
  [ -f "$WORK/node/package.json" ] || echo '{"private": true}' > "$WORK/node/package.json"
  (cd "$WORK/node" && npm install --no-audit --no-fund --silent json-schema-to-typescript@15)
fi

echo "==> corpus (50 modules, 1,050 models)"
PROJ=$WORK/proj
"$WORK/venv/bin/python" bench/typesync/make_dto_corpus.py --out "$PROJ/backend" --eager-init
SRC_BYTES=$(cat "$PROJ"/backend/app/modules/*/dtos.py | wc -c)
"$FSI" -C "$PROJ" -q types >/dev/null
OUT_FILES=$(ls "$PROJ/frontend/src/types" | wc -l)

P2TS="cd $PROJ/backend && PYTHONPATH=$PROJ/backend $WORK/venv/bin/pydantic2ts --module app.modules --output $WORK/p2ts.ts --json2ts-cmd $WORK/node/node_modules/.bin/json2ts"
# The clean-out-dir runs move the previous output aside instead of deleting it: this machine's
# ext4 has no journal, and right after a large delete every file creation scans past the freed
# inodes for ~30 s (see bench/scaffold/run.sh), which would be measured as fsi's cost.
rm -rf "$WORK/trash"
echo "==> hyperfine: fsi (release)"
hyperfine --style basic --warmup 5 --min-runs 30 --export-json "$WORK/hyperfine-fsi.json" \
  --command-name "fsi types (clean out dir)" --prepare "mkdir -p $WORK/trash && mv $PROJ/frontend/src/types $WORK/trash/\$(date +%s%N)" "$FSI -C $PROJ -q types" \
  --command-name "fsi types (up to date)" --prepare "true" "$FSI -C $PROJ -q types" \
  --command-name "fsi types --check" --prepare "true" "$FSI -C $PROJ -q types --check"
echo "==> hyperfine: pydantic2ts + json2ts"
hyperfine --style basic --warmup 1 --runs "$P2TS_RUNS" --export-json "$WORK/hyperfine-p2ts.json" \
  --command-name "pydantic2ts + json2ts" "$P2TS"

python3 - "$WORK/hyperfine-fsi.json" "$WORK/hyperfine-p2ts.json" "$SRC_BYTES" "$OUT_FILES" <<'PY'
import json, sys
r = {}
for f in sys.argv[1:3]:
    r.update({x["command"]: x for x in json.load(open(f))["results"]})
sys.argv = [sys.argv[0]] + sys.argv[2:]
# Medians are what the targets are judged on: on a shared VM a few runs land on a busy host and
# drag the mean by milliseconds (fsi's runs are ~25 ms). Means are printed next to them.
p2ts = r["pydantic2ts + json2ts"]["median"]
p2ts_mean = r["pydantic2ts + json2ts"]["mean"]
print(f"\ncorpus: 50 modules + shared, 1,050 models, {int(sys.argv[2])/1024:.0f} KiB of .py; fsi writes {sys.argv[3]} files")
print(f"{'command':32} {'median':>10} {'mean':>10} {'min':>10} {'user':>10} {'vs p2ts (median)':>18} {'(mean)':>8}")
for name, x in r.items():
    print(f"{name:32} {x['median']*1000:8.1f}ms {x['mean']*1000:8.1f}ms {x['min']*1000:8.1f}ms {x['user']*1000:8.1f}ms {p2ts / x['median']:16.0f}x {p2ts_mean / x['mean']:7.0f}x")
fsi = r["fsi types (clean out dir)"]["median"]
chk = r["fsi types --check"]["median"]
ok = fsi <= 0.050 and chk <= 0.050 and p2ts / fsi >= 200 and p2ts / chk >= 200
print(f"\ntargets on medians (fsi <= 50 ms, >= 200x faster than pydantic2ts, --check as fast): {'met' if ok else 'NOT met'}")
PY
rm -rf "$WORK/trash"
