#!/usr/bin/env bash
# Growing and updating a project: `fsi add resource`, `fsi update` with nothing to do, and
# `fsi update` with a real 3-way merge against `copier update` doing the same merge on the same
# project. Run side by side in one go; prints the hyperfine table and the ratios.
#
# The copier template is made from fsi's own rendered tree (as in bench/scaffold): v1 is the
# render, v2 the same with one skeleton file changed. Both projects get the same user edits (the
# changed file elsewhere, and README.md), committed; each timed run starts from that commit.
#
# usage: bench/update/run.sh [--runs N]
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${2:-20}
# The projects live on a tmpfs when there is one (override with BENCH_OUT=DIR): the timed
# commands write files where the resets just deleted some, and this machine's journal-less ext4
# then scans the recently freed inodes on every create (`recently_deleted` at the top of perf;
# see docs/benchmarks.md, "Deletions") — a cost of the test machine, not of the tools.
if [ -n "${BENCH_OUT:-}" ]; then
  WORK=$(mktemp -d -p "$BENCH_OUT" fsi-update.XXXXXX)
elif [ -w /dev/shm ]; then
  WORK=$(mktemp -d -p /dev/shm fsi-update.XXXXXX)
else
  WORK=$PWD/bench/work/update
  rm -rf "$WORK"
  mkdir -p "$WORK"
fi
echo "work directory: $WORK ($(df -T "$WORK" | awk 'NR==2 {print $2}'))"
trap 'rm -rf "$WORK"' EXIT
export SSL_CERT_FILE=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost

command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
command -v uv >/dev/null || python3 -m pip install -q uv
[ -x bench/work/venv/bin/python ] || uv venv -q bench/work/venv
uv pip install -q --python bench/work/venv/bin/python copier
cargo build --release -q
FSI=$PWD/target/release/fsi
COPIER=$PWD/bench/work/venv/bin/copier
CHANGED=backend/app/health.py

# --- fsi: a project as an older fsi left it (CHANGED rendered differently, in the tree and in
# the recorded base), then the user's edits.
"$FSI" new "$WORK/fsi/demo" --yes >/dev/null 2>&1
P=$WORK/fsi/demo
python3 - "$P/$CHANGED" "$WORK/old.py" <<'PY'
import sys
s = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(s.replace("GET /health", "GET /health (older wording)", 1))
PY
cp "$WORK/old.py" "$P/$CHANGED"
git -C "$P" commit -qam "as an older fsi rendered it"
( cd "$P"
  export GIT_INDEX_FILE=$WORK/base.index
  git read-tree refs/fsi/base
  git update-index --cacheinfo "100644,$(git hash-object -w "$WORK/old.py"),$CHANGED"
  git update-ref refs/fsi/base "$(git commit-tree "$(git write-tree)" -p refs/fsi/base -m 'older base')" )
echo "# the user's note" >> "$P/$CHANGED"
echo "Our notes." >> "$P/README.md"
git -C "$P" commit -qam "user edits"
git -C "$P" tag edited
OLDBASE=$(git -C "$P" rev-parse refs/fsi/base)
FSI_RESET="git -C $P reset -q --hard edited && git -C $P update-ref refs/fsi/base $OLDBASE"

# A fresh project for `fsi update` with nothing to do, and for `fsi add resource`.
"$FSI" new "$WORK/fresh/demo" --yes >/dev/null 2>&1
F=$WORK/fresh/demo
git -C "$F" tag fresh
FRESHBASE=$(git -C "$F" rev-parse refs/fsi/base)
ADD_RESET="git -C $F reset -q --hard fresh && git -C $F clean -qfdx -e .env && git -C $F update-ref refs/fsi/base $FRESHBASE"

# --- copier: the same tree as a template (v1), and v2 with the same file changed.
"$FSI" new "$WORK/ref/demo" --yes --no-git --no-types >/dev/null 2>&1
T=$WORK/copier-template
bench/work/venv/bin/python - "$WORK/ref/demo" "$T" "$WORK/old.py" "$CHANGED" <<'PY'
import os, sys
ref, tpl, old, changed = sys.argv[1:5]
os.makedirs(os.path.join(tpl, "template"))
open(os.path.join(tpl, "copier.yml"), "w").write(
    "project_slug:\n  type: str\n  default: demo\n_subdirectory: template\n_templates_suffix: .jinja\n")
open(os.path.join(tpl, "template", "{{ _copier_conf.answers_file }}.jinja"), "w").write(
    "{{ _copier_answers|to_nice_yaml -}}\n")
def guard(text):
    text = text.replace("{{", "{{ '{{' }}").replace("{%", "{{ '{%' }}").replace("{#", "{{ '{#' }}")
    return text.replace("demo", "{{ project_slug }}")
for dirpath, _, files in os.walk(ref):
    for f in files:
        src = os.path.join(dirpath, f)
        rel = os.path.relpath(src, ref)
        try:
            text = open(src, encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        if rel == changed:
            text = open(old).read()  # v1 holds the older wording
        dst = os.path.join(tpl, "template", rel + ".jinja")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "w", encoding="utf-8").write(guard(text))
PY
git -C "$T" init -q -b main && git -C "$T" add -A && git -C "$T" commit -qm v1 && git -C "$T" tag v1
bench/work/venv/bin/python - "$WORK/ref/demo/$CHANGED" "$T/template/$CHANGED.jinja" <<'PY'
import sys
text = open(sys.argv[1]).read()
text = text.replace("{{", "{{ '{{' }}").replace("{%", "{{ '{%' }}").replace("{#", "{{ '{#' }}")
open(sys.argv[2], "w").write(text.replace("demo", "{{ project_slug }}"))
PY
git -C "$T" commit -qam v2 && git -C "$T" tag v2
C=$WORK/copier/demo
"$COPIER" copy --defaults --quiet --vcs-ref v1 "$T" "$C"
git -C "$C" init -q -b main && git -C "$C" add -A && git -C "$C" commit -qm "copier copy v1"
echo "# the user's note" >> "$C/$CHANGED"
echo "Our notes." >> "$C/README.md"
git -C "$C" commit -qam "user edits"
git -C "$C" tag edited
COPIER_RESET="git -C $C reset -q --hard edited && git -C $C clean -qfdx"

# hyperfine takes the --prepare commands in the order of the benchmarks.
hyperfine --style basic --warmup 2 --runs "$RUNS" --export-json "$WORK/results.json" \
  --prepare "$FSI_RESET" --prepare "$COPIER_RESET" --prepare "true" --prepare "$ADD_RESET" \
  -n "fsi update (merge)" "cd $P && $FSI update" \
  -n "copier update (merge)" "cd $C && $COPIER update --defaults --quiet --vcs-ref v2 --conflict inline" \
  -n "fsi update (nothing to do)" "cd $F && $FSI update" \
  -n "fsi add resource" \
  "cd $F && $FSI add resource book --field title:str --field pages:int --field price:decimal --field 'published:date?' --field in_stock:bool"

# Sanity: both merges kept the user's note and took the new wording.
for d in "$P" "$C"; do
  grep -q "the user's note" "$d/$CHANGED" && grep -q '"""GET /health:' "$d/$CHANGED" \
    || { echo "merge result wrong in $d"; exit 1; }
done
git -C "$P" log --oneline -1

python3 - "$WORK/results.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
for name, x in r.items():
    print(f"{name:30s} mean {x['mean']*1000:8.1f} ms  ± {x['stddev']*1000:6.1f}")
merge = r["fsi update (merge)"]["mean"]
print(f"\ncopier update / fsi update (merge) = {r['copier update (merge)']['mean']/merge:.0f}×   (target ≥ 50×)")
print(f"fsi update, nothing to do         = {r['fsi update (nothing to do)']['mean']*1000:.1f} ms (target ≤ 50 ms)")
print(f"fsi add resource                  = {r['fsi add resource']['mean']*1000:.1f} ms (target ≤ 50 ms)")
PY
