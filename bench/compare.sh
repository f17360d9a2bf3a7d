#!/bin/sh
# compare.sh — race the Go trainer against PyTorch on the reference resnet
# (issue 7). Builds the Go benchmark, then runs it and bench/torch_peer.py
# alternately, REPS times each, and prints images/s (median, min, max),
# peak RSS, and the ratio Go/PyTorch per interleaved pair.
#
# Usage: bench/compare.sh [two-step|baseline]
# Environment:
#   REPS=5       repetitions of each side
#   BATCHES=20   timed batches per repetition (each side adds warm-up batches)
#   PYTHON=/usr/bin/python3   an interpreter with Debian's python3-torch
#   PEER_POLICIES="default passive"  OpenMP wait policies tried for PyTorch in
#                every repetition; its best counts. (Default OpenMP spinning
#                collapses PyTorch 10x when other processes load the cores.)
#   GOPKG, GOBENCH            override which Go benchmark runs
#
# The last line is stable, for scripts:
#   RESULT schedule=two-step ratio=<median Go/PyTorch> ratio_min=.. ratio_max=.. go_img_s=.. torch_img_s=.. go_rss_mb=.. torch_rss_mb=..
# e.g. ratio=$(bench/compare.sh | tail -1 | sed 's/.* ratio=\([^ ]*\).*/\1/')
set -eu

SCHEDULE=${1:-two-step}
REPS=${REPS:-5}
BATCHES=${BATCHES:-20}
PYTHON=${PYTHON:-/usr/bin/python3}
PEER_POLICIES=${PEER_POLICIES:-default passive}

cd "$(dirname "$0")/.."

case $SCHEDULE in
two-step) suffix= ;;
baseline) suffix=Baseline ;;
*) echo "compare.sh: schedule must be two-step or baseline, not $SCHEDULE" >&2; exit 2 ;;
esac

# The trainer's own benchmark once it exists, else the stand-in built from
# internal/ops (same net, same schedule).
if [ -z "${GOPKG:-}" ]; then
	if grep -qs "^func BenchmarkTrainBatchResNet$suffix(" internal/train/*_test.go; then
		GOPKG=./internal/train
	else
		GOPKG=./internal/ops
	fi
fi
GOBENCH=${GOBENCH:-BenchmarkTrainBatchResNet$suffix}

"$PYTHON" -c 'import torch' 2>/dev/null || {
	echo "compare.sh: $PYTHON cannot import torch (apt-get install python3-torch)" >&2
	exit 1
}
[ -x /usr/bin/time ] || { echo "compare.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/gobench" "$GOPKG"

echo "go: $GOPKG $GOBENCH, pytorch: bench/torch_peer.py --schedule $SCHEDULE; $REPS reps x $BATCHES batches of 32"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (a load above the CPU count makes every figure noisy)"
i=1
while [ "$i" -le "$REPS" ]; do
	/usr/bin/time -f "rss_kb %M" -o "$tmp/go.rss" "$tmp/gobench" -test.run '^$' \
		-test.bench "^$GOBENCH\$" -test.benchtime "${BATCHES}x" >"$tmp/go.out" 2>&1 || {
		cat "$tmp/go.out" >&2
		exit 1
	}
	g=$(awk '{for (k = 2; k <= NF; k++) if ($k == "img/s") print $(k-1)}' "$tmp/go.out")
	# PyTorch's best of its OpenMP wait policies: the default spins, which
	# collapses when other processes share the cores; PASSIVE does not.
	p= pr= pol=
	for policy in $PEER_POLICIES; do
		case $policy in
		default) envset= ;;
		passive) envset=OMP_WAIT_POLICY=PASSIVE ;;
		*) echo "compare.sh: unknown peer policy $policy" >&2; exit 2 ;;
		esac
		env $envset /usr/bin/time -f "rss_kb %M" -o "$tmp/py.rss" "$PYTHON" bench/torch_peer.py \
			--schedule "$SCHEDULE" --batches "$BATCHES" >"$tmp/py.out" 2>&1 || {
			cat "$tmp/py.out" >&2
			exit 1
		}
		v=$(awk '$1 == "img/s" {print $2}' "$tmp/py.out")
		if [ -z "$v" ]; then
			echo "compare.sh: no img/s figure in the peer's output:" >&2
			cat "$tmp/py.out" >&2
			exit 1
		fi
		if [ -z "$p" ] || awk "BEGIN {exit !($v > $p)}"; then
			p=$v pol=$policy
			pr=$(awk '$1 == "rss_kb" {print $2}' "$tmp/py.rss")
		fi
	done
	gr=$(awk '$1 == "rss_kb" {print $2}' "$tmp/go.rss")
	if [ -z "$g" ]; then
		echo "compare.sh: no img/s figure in the Go benchmark's output:" >&2
		cat "$tmp/go.out" >&2
		exit 1
	fi
	echo "rep $i: go $g img/s ($((gr / 1024)) MB), pytorch $p img/s ($((pr / 1024)) MB, OpenMP $pol), load $(cut -d' ' -f1 /proc/loadavg)"
	echo "$g $p $gr $pr" >>"$tmp/runs"
	i=$((i + 1))
done

"$PYTHON" - "$tmp/runs" "$SCHEDULE" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
go, py, grss, prss = (list(c) for c in zip(*rows))
ratio = [g / p for g, p in zip(go, py)]
def s(v):
    return f"median {statistics.median(v):8.1f}  min {min(v):8.1f}  max {max(v):8.1f}"
print(f"go       img/s {s(go)}  peak RSS {max(grss) / 1024:6.0f} MB")
print(f"pytorch  img/s {s(py)}  peak RSS {max(prss) / 1024:6.0f} MB")
print(f"ratio go/pytorch  median {statistics.median(ratio):.3f}  min {min(ratio):.3f}  max {max(ratio):.3f}  (per interleaved pair)")
print(f"RESULT schedule={sys.argv[2]} ratio={statistics.median(ratio):.3f} ratio_min={min(ratio):.3f} "
      f"ratio_max={max(ratio):.3f} go_img_s={statistics.median(go):.1f} torch_img_s={statistics.median(py):.1f} "
      f"go_rss_mb={max(grss) / 1024:.0f} torch_rss_mb={max(prss) / 1024:.0f}")
PY
