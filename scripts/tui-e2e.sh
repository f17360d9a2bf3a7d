#!/usr/bin/env bash
# End-to-end test of the terminal UI through the real binary, driven by tmux:
# start `workbench` on a fresh database, build a 2-variant study with the
# keyboard in the ablation builder, run it (smoke profile), export its table
# from the Compare screen, and check the exported file; then diff the two
# runs, note and tag one, filter by the tag and archive it on Runs.
#
# usage: scripts/tui-e2e.sh [CAPTURE_DIR]
#   WORKBENCH=path/to/workbench  use this binary instead of building one
#   CAPTURE_DIR                  also write a text capture of each screen there
#
# Exits 0 when every check passes; on failure prints what the terminal showed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
capture=${1:-}
command -v tmux >/dev/null || { echo "tui-e2e: tmux is not installed" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tui-e2e.XXXXXX")
session="wb-e2e-$$"
cleanup() {
	tmux kill-session -t "$session" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

bin=${WORKBENCH:-}
if [[ -z "$bin" ]]; then
	bin="$work/workbench"
	(cd "$repo" && go build -o "$bin" ./cmd/workbench)
fi
[[ "$bin" = /* ]] || bin="$PWD/$bin"

proj="$work/project"
mkdir -p "$proj"

screen() { tmux capture-pane -p -t "$session"; }

fail() {
	echo "tui-e2e: FAIL: $*" >&2
	echo "--- the terminal showed:" >&2
	screen >&2 || true
	exit 1
}

# wait_for TEXT [SECONDS]: until the screen shows TEXT.
wait_for() {
	local text=$1 limit=${2:-30} i
	for ((i = 0; i < limit * 10; i++)); do
		if screen | grep -qF -- "$text"; then return 0; fi
		sleep 0.1
	done
	fail "timed out after ${limit}s waiting for: $text"
}

keys() { tmux send-keys -t "$session" "$@"; }
typed() { tmux send-keys -t "$session" -l "$1"; }

save_capture() {
	[[ -n "$capture" ]] || return 0
	mkdir -p "$capture"
	screen >"$capture/$1.txt"
}

# 1. workbench with no arguments opens the UI on a fresh database.
tmux new-session -d -s "$session" -x 80 -y 24 -c "$proj" "'$bin' --db runs.db; echo \"exit status \$?\"; sleep 600"
wait_for "1 Studies" 30
wait_for "No studies yet"

# 2. Build a study: name, profile smoke, seeds 1; the default axes
#    (steps 0 and 2) make two variants: baseline and two-step.
keys n
wait_for "Define a study"
keys Enter   # a field takes keys only after enter; down leaves it
typed "e2e"
keys Down Down Down Left Down Enter
keys BSpace BSpace BSpace BSpace
typed "1"
keys Escape
wait_for "2 variant(s) × 1 seed(s) = 2 runs · profile smoke"
wait_for "variants: baseline, two-step"
save_capture builder
keys C-r
wait_for "2 queued"
wait_for "[4 Live]"
[[ -f "$proj/experiments/e2e.toml" ]] || fail "experiments/e2e.toml was not written"

# 3. Watch it run on Runs until both runs have finished.
keys 3
wait_for "[3 Runs]"
for ((i = 0; i < 1200; i++)); do
	n=$(screen | grep -c " finished " || true)
	[[ "$n" -ge 2 ]] && break
	if screen | grep -qE " (failed|diverged|interrupted) "; then fail "a run did not finish"; fi
	sleep 0.1
done
[[ "${n:-0}" -ge 2 ]] || fail "the two runs did not finish within 120s"
save_capture runs

# 4. Compare shows the study's table; e exports it.
keys Tab Tab
wait_for "[5 Compare]"
wait_for "Study e2e"
wait_for "two-step"
save_capture compare
keys e
wait_for "exported e2e" 60

for f in e2e.md e2e.csv e2e.tex; do
	[[ -s "$proj/plots/$f" ]] || fail "plots/$f is missing or empty"
done
grep -q "baseline" "$proj/plots/e2e.md" || fail "plots/e2e.md has no baseline row"
grep -q "two-step" "$proj/plots/e2e.md" || fail "plots/e2e.md has no two-step row"
grep -q "two-step" "$proj/plots/e2e.csv" || fail "plots/e2e.csv has no two-step row"
ls "$proj"/plots/*.png >/dev/null 2>&1 || fail "no plot was exported"

# 5. Finished runs on Runs: select both and diff them; note and tag the
#    run under the cursor, filter by the tag, archive it (it is hidden).
keys 3
wait_for "[3 Runs]"
keys Space Space d
wait_for "Diff of runs"
wait_for "Summaries"
save_capture diff
keys Escape # closes the diff (one key at a time: two escapes at once read as alt+esc)
wait_for "2 selected"
sleep 0.3
keys Escape # clears the selection
wait_for "2 runs · sorted"
keys n
wait_for "Note for run"
typed "busy machine"
keys Enter
wait_for "noted run"
keys t
wait_for "Tags for run"
typed "best"
keys Enter
wait_for "tagged run"
keys /
typed "tag:best"
keys Enter
wait_for "1 of 2 runs"
keys x
wait_for "Archive run"
keys y
wait_for "1 archived hidden"
save_capture archived
keys Escape

# 6. The other screens, for the record; then quit (nothing is running).
if [[ -n "$capture" ]]; then
	keys 1
	wait_for "[1 Studies]"
	save_capture studies
	keys 4
	wait_for "[4 Live]"
	save_capture live
	keys '?'
	wait_for "Keys"
	save_capture help
	keys Escape
fi
keys q
wait_for "exit status 0" 15

echo "tui-e2e: ok (study e2e built, run and exported to plots/e2e.md)"
