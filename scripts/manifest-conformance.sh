#!/usr/bin/env bash
# Third-party manifest conformance run (docs/conformance.md): every manifest listed in
# tests/conformance/manifests.tsv (repo, commit, path, kind) is taken from a local mirror of its
# repository at the listed commit (git show, into a temporary directory: nothing is copied into
# this repository), opened by the core as the player opens a fetched manifest
# (core/examples/manifest_check.rs), and reported accepted or refused. Prints one line per file,
# a summary per source and kind, and every refusal with its error.
#
# Usage: bash scripts/manifest-conformance.sh MIRROR_ROOT [LIST]
#   MIRROR_ROOT holds one git directory (bare or not) per repository, found as
#   OWNER+NAME/repo, OWNER+NAME, OWNER/NAME or NAME under it.
#   KINEMA_NOW_MS fixes the wall clock given to dynamic MPDs (default: the system clock).
# Exit status: 0 when every listed file was found (refusals are results, not failures).
set -euo pipefail
root=${1:?usage: manifest-conformance.sh MIRROR_ROOT [LIST]}
cd "$(dirname "$0")/.."
list=${2:-tests/conformance/manifests.tsv}
[ -f "$list" ] || { echo "no list: $list" >&2; exit 2; }

cargo build --quiet -p kinema-core --example manifest_check
check=${CARGO_TARGET_DIR:-target}/debug/examples/manifest_check
[ -x "$check" ] || { echo "checker not built: $check" >&2; exit 2; }

# git_dir REPO: the mirror of REPO (owner/name) under $root, or nothing.
git_dir() {
  local owner=${1%%/*} name=${1#*/} d
  for d in "$root/$owner+$name/repo" "$root/$owner+$name" "$root/$owner/$name" "$root/$name"; do
    if [ -d "$d" ] && git -C "$d" rev-parse --git-dir >/dev/null 2>&1; then
      echo "$d"
      return
    fi
  done
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.tsv
: >"$results"
missing=0
n=0
while IFS=$'\t' read -r repo commit path kind; do
  [ "$repo" = repo ] && continue # header
  [ -n "$repo" ] || continue
  n=$((n + 1))
  dir=$(git_dir "$repo")
  file=$tmp/m$n
  if [ -z "$dir" ] || ! git -C "$dir" show "$commit:$path" >"$file" 2>/dev/null; then
    missing=$((missing + 1))
    printf '%s\t%s\t%s\t%s\n' "$repo" "$path" "$kind" "missing (no mirror, commit or path)" | tee -a "$results"
    continue
  fi
  result=$("$check" "$file" "https://conformance.invalid/$repo/$path" 2>&1) || true
  printf '%s\t%s\t%s\t%s\n' "$repo" "$path" "$kind" "$result" | tee -a "$results"
done <"$list"

echo
echo "== summary (source, kind: accepted / refused / missing)"
awk -F'\t' '
  { key = $1 "\t" $3; keys[key] = 1
    if ($4 == "accepted") a[key]++
    else if ($4 ~ /^refused/) r[key]++
    else m[key]++
    A += ($4 == "accepted"); R += ($4 ~ /^refused/) }
  END {
    for (k in keys) printf "%-40s accepted %3d  refused %3d  missing %d\n", k, a[k], r[k], m[k] | "sort"
    close("sort")
    printf "%-40s accepted %3d  refused %3d\n", "all", A, R
  }' "$results"
echo
echo "== refusals"
awk -F'\t' '$4 ~ /^refused/ { print $1 " " $2 " (" $3 "): " substr($4, 10) }' "$results"
[ "$missing" -eq 0 ] || { echo "$missing listed file(s) missing" >&2; exit 1; }
