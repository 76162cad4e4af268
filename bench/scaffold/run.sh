#!/usr/bin/env bash
# Scaffolding speed: `fsi new demo --yes` against cookiecutter and copier rendering a template with
# the same files. The peer templates are made from fsi's own rendered tree (same paths, same bytes,
# the project name substituted back in as a template variable), so every tool writes the same
# project. Installs the peers into bench/work/venv. Prints the hyperfine table and the ratios.
#
# usage: bench/scaffold/run.sh [--runs N]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${2:-30}
WORK=bench/work/scaffold
# Where the projects are written: a tmpfs by default (override with BENCH_OUT=DIR). This machine's
# ext4 has no journal, and there ext4 skips inodes freed in the last minutes (up to ~6 min while
# their inode blocks are still dirty) when it allocates new ones: after a large `rm -rf`, every
# file creation scans past the freed inodes (`recently_deleted`, `find_get_block_common` at the
# top of perf), which made writing a project up to 4× slower depending on what was deleted
# before — for every tool, but it swamps fsi's few milliseconds. Journaled filesystems, which
# users have, do not do this; a tmpfs gives reproducible figures. Nothing is deleted inside the
# timed loop either way.
rm -rf "$WORK"
mkdir -p "$WORK"
export SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
command -v uv >/dev/null || python3 -m pip install -q uv
[ -x bench/work/venv/bin/python ] || uv venv -q bench/work/venv
uv pip install -q --python bench/work/venv/bin/python cookiecutter copier
cargo build --release -q
FSI=$PWD/target/release/fsi

# The reference tree: what fsi writes for `demo` (no git, no types: the peers do neither).
"$FSI" new "$WORK/ref/demo" --yes --no-git --no-types >/dev/null 2>&1
FILES=$(find "$WORK/ref/demo" -type f | wc -l)

# The same tree as a cookiecutter and as a copier template: every file is a template in which the
# project name is a variable, as in fsi's skeletons.
bench/work/venv/bin/python - "$WORK" <<'PY'
import os, sys, shutil, json
work = sys.argv[1]
ref = os.path.join(work, "ref", "demo")
cc = os.path.join(work, "cookiecutter")
cp = os.path.join(work, "copier")
for base in (cc, cp):
    shutil.rmtree(base, ignore_errors=True)
root_cc = os.path.join(cc, "{{cookiecutter.project_slug}}")
os.makedirs(root_cc)
os.makedirs(os.path.join(cp, "template"))
json.dump({"project_slug": "demo"}, open(os.path.join(cc, "cookiecutter.json"), "w"))
open(os.path.join(cp, "copier.yml"), "w").write(
    "project_slug:\n  type: str\n  default: demo\n_subdirectory: template\n_templates_suffix: .jinja\n")
def guard(text, var):
    # Keep literal braces literal, then put the variable back where the name was.
    text = text.replace("{{", "{{ '{{' }}").replace("{%", "{{ '{%' }}").replace("{#", "{{ '{#' }}")
    return text.replace("demo", "{{ %s }}" % var)
for dirpath, _, files in os.walk(ref):
    for f in files:
        src = os.path.join(dirpath, f)
        rel = os.path.relpath(src, ref)
        try:
            text = open(src, encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        for base, var, suffix in ((root_cc, "cookiecutter.project_slug", ""), (os.path.join(cp, "template"), "project_slug", ".jinja")):
            dst = os.path.join(base, rel + suffix)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            open(dst, "w", encoding="utf-8").write(guard(text, var))
PY

# Every run (warm-ups too) gets a new empty directory, reached through the `cur` symlink.
if [ -n "${BENCH_OUT:-}" ]; then
  OUT=$(mktemp -d -p "$BENCH_OUT" fsi-bench.XXXXXX)
elif [ -w /dev/shm ]; then
  OUT=$(mktemp -d -p /dev/shm fsi-bench.XXXXXX)
else
  OUT=$PWD/$WORK/out
fi
mkdir -p "$OUT"
echo "output directory: $OUT ($(df -T "$OUT" | awk 'NR==2 {print $2}'))"
PREP="ln -sfn \$(mktemp -d -p $OUT) $OUT/cur"
hyperfine --style basic --warmup 3 --runs "$RUNS" --export-json "$WORK/results.json" \
  --prepare "$PREP" \
  -n "fsi new demo --yes" "cd $OUT/cur && $FSI new demo --yes" \
  -n "fsi new demo --yes --no-git --no-types" "cd $OUT/cur && $FSI new demo --yes --no-git --no-types" \
  -n "cookiecutter" "bench/work/venv/bin/cookiecutter --no-input -o $OUT/cur $WORK/cookiecutter" \
  -n "copier" "bench/work/venv/bin/copier copy --defaults --quiet $WORK/copier $OUT/cur/demo"
# Sanity: the last fsi run made a complete project with its first commit.
git -C "$(dirname "$(find "$OUT" -mindepth 3 -maxdepth 3 -name .git | head -1)")" log --oneline -1

python3 - "$WORK/results.json" "$FILES" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
files = sys.argv[2]
fsi = r["fsi new demo --yes"]["mean"]
print(f"\nfiles per project: {files}")
for name, x in r.items():
    print(f"{name:45s} mean {x['mean']*1000:8.1f} ms  ± {x['stddev']*1000:6.1f}  ({x['mean']/fsi:6.1f}× fsi new --yes)")
print(f"\ncookiecutter / fsi new --yes = {r['cookiecutter']['mean']/fsi:.0f}×   (target ≥ 40×)")
print(f"copier / fsi new --yes       = {r['copier']['mean']/fsi:.0f}×")
print(f"fsi new --yes mean           = {fsi*1000:.1f} ms (target ≤ 30 ms)")
PY
rm -rf "$OUT"
