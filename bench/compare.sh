#!/bin/sh
# compare.sh — race the Go trainer against PyTorch on a reference backbone
# (issues 7 and 14). Builds the Go benchmark, then runs it and
# bench/torch_peer.py alternately, REPS times each, under each OpenBLAS
# setting, and prints images/s (median, min, max), peak RSS, and the ratio
# Go/PyTorch per interleaved pair.
#
# Usage: bench/compare.sh [two-step|baseline] [resnet|swin]
# Environment:
#   REPS=5       repetitions of each side
#   BATCHES=20   timed batches per repetition (each side adds warm-up batches)
#   PYTHON=/usr/bin/python3   an interpreter with Debian's python3-torch
#   PEER_POLICIES="default passive"  OpenMP wait policies tried for PyTorch in
#                every repetition; its best counts. (Default OpenMP spinning
#                collapses PyTorch 10x when other processes load the cores.)
#   BLAS="env native"  OpenBLAS settings, each a full set of interleaved pairs:
#                env     the variables as this environment sets them
#                        (OPENBLAS_CORETYPE=Haswell on CI: AVX2 kernels);
#                native  OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for
#                        both sides' commands only (OpenBLAS picks the CPU's
#                        own kernels, as on a user's machine). Where it does
#                        not know the CPU and falls back to Prescott, the
#                        workbench selects the CPU's kernels itself; the peer
#                        then gets OPENBLAS_CORETYPE set to the same kernels.
#                Without either variable set, only native runs.
#   GOPKG, GOBENCH            override which Go benchmark runs
#
# The Go benchmark reports its model's parameter count; the peer is run with
# --expect-params and fails if its model differs.
#
# One stable line per OpenBLAS setting, the last lines, for scripts:
#   RESULT backbone=swin schedule=two-step blas=native ratio=<median Go/PyTorch> ratio_min=.. ratio_max=.. go_img_s=.. torch_img_s=.. go_rss_mb=.. torch_rss_mb=.. go_allocs_op=.. load=..
# e.g. bench/compare.sh two-step swin | grep '^RESULT.*blas=native' | sed 's/.* ratio=\([^ ]*\).*/\1/'
set -eu

SCHEDULE=${1:-two-step}
BACKBONE=${2:-resnet}
REPS=${REPS:-5}
BATCHES=${BATCHES:-20}
PYTHON=${PYTHON:-/usr/bin/python3}
PEER_POLICIES=${PEER_POLICIES:-default passive}
BLAS=${BLAS:-env native}

cd "$(dirname "$0")/.."

case $SCHEDULE in
two-step) suffix= ;;
baseline) suffix=Baseline ;;
*) echo "compare.sh: schedule must be two-step or baseline, not $SCHEDULE" >&2; exit 2 ;;
esac
case $BACKBONE in
resnet) name=ResNet ;;
swin) name=Swin ;;
*) echo "compare.sh: backbone must be resnet or swin, not $BACKBONE" >&2; exit 2 ;;
esac
if [ -z "${OPENBLAS_CORETYPE:-}${OPENBLAS_L2_SIZE:-}" ]; then
	BLAS=native # nothing to unset: the two settings are one
fi
for setting in $BLAS; do
	case $setting in
	env | native) ;;
	*) echo "compare.sh: unknown OpenBLAS setting $setting (env or native)" >&2; exit 2 ;;
	esac
done

GOPKG=${GOPKG:-./internal/train}
GOBENCH=${GOBENCH:-BenchmarkTrainBatch$name$suffix}

"$PYTHON" -c 'import torch' 2>/dev/null || {
	echo "compare.sh: $PYTHON cannot import torch (apt-get install python3-torch)" >&2
	exit 1
}
[ -x /usr/bin/time ] || { echo "compare.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/gobench" "$GOPKG"

# metric FILE UNIT prints the value before UNIT in a benchmark line.
metric() { awk -v u="$2" '{for (k = 2; k <= NF; k++) if ($k == u) print $(k-1)}' "$1"; }

echo "go: $GOPKG $GOBENCH, pytorch: bench/torch_peer.py --backbone $BACKBONE --schedule $SCHEDULE; $REPS reps x $BATCHES batches of 32; OpenBLAS: $BLAS (environment: OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} OPENBLAS_L2_SIZE=${OPENBLAS_L2_SIZE:-unset})"
echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (a load above the CPU count makes every figure noisy)"
i=1
while [ "$i" -le "$REPS" ]; do
	for setting in $BLAS; do
		unset_blas=
		[ "$setting" = native ] && unset_blas="-u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE"
		# shellcheck disable=SC2086 # unset_blas is a list of options
		env $unset_blas /usr/bin/time -f "rss_kb %M" -o "$tmp/go.rss" "$tmp/gobench" -test.run '^$' \
			-test.bench "^$GOBENCH\$" -test.benchtime "${BATCHES}x" -test.benchmem >"$tmp/go.out" 2>&1 || {
			cat "$tmp/go.out" >&2
			exit 1
		}
		g=$(metric "$tmp/go.out" img/s)
		params=$(metric "$tmp/go.out" params)
		allocs=$(metric "$tmp/go.out" allocs/op)
		# The peer runs the kernels the Go side ran: where OpenBLAS does not
		# know the CPU and falls back to Prescott, the workbench selects the
		# CPU's own (internal/ops/blascore.go); the peer is told the same.
		core=$(awk '$2 == "blas_core" {print $3; exit}' "$tmp/go.out")
		peer_core=
		[ "$setting" = native ] && [ -n "$core" ] && peer_core=OPENBLAS_CORETYPE=$core
		if [ -z "$g" ] || [ -z "$params" ]; then
			echo "compare.sh: no img/s or params figure in the Go benchmark's output:" >&2
			cat "$tmp/go.out" >&2
			exit 1
		fi
		# PyTorch's best of its OpenMP wait policies: the default spins, which
		# collapses when other processes share the cores; PASSIVE does not.
		p= pr= pol=
		for policy in $PEER_POLICIES; do
			case $policy in
			default) envset= ;;
			passive) envset=OMP_WAIT_POLICY=PASSIVE ;;
			*) echo "compare.sh: unknown peer policy $policy" >&2; exit 2 ;;
			esac
			# shellcheck disable=SC2086
			env $unset_blas $peer_core $envset /usr/bin/time -f "rss_kb %M" -o "$tmp/py.rss" "$PYTHON" bench/torch_peer.py \
				--backbone "$BACKBONE" --schedule "$SCHEDULE" --batches "$BATCHES" \
				--expect-params "${params%.*}" >"$tmp/py.out" 2>&1 || {
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
		load=$(cut -d' ' -f1 /proc/loadavg)
		echo "rep $i, OpenBLAS $setting (${core:-?} kernels): go $g img/s ($((gr / 1024)) MB, ${allocs:-?} allocs/batch), pytorch $p img/s ($((pr / 1024)) MB, OpenMP $pol), $params params each, load $load"
		echo "$g $p $gr $pr ${allocs:-0} $load" >>"$tmp/runs.$setting"
	done
	i=$((i + 1))
done

for setting in $BLAS; do
	"$PYTHON" - "$tmp/runs.$setting" "$BACKBONE" "$SCHEDULE" "$setting" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
go, py, grss, prss, allocs, load = (list(c) for c in zip(*rows))
ratio = [g / p for g, p in zip(go, py)]
backbone, schedule, blas = sys.argv[2:5]
def s(v):
    return f"median {statistics.median(v):8.1f}  min {min(v):8.1f}  max {max(v):8.1f}"
print(f"== {backbone} {schedule}, OpenBLAS {blas}, load {min(load):.2f}-{max(load):.2f}")
print(f"go       img/s {s(go)}  peak RSS {max(grss) / 1024:6.0f} MB  allocs/batch {statistics.median(allocs):.0f}")
print(f"pytorch  img/s {s(py)}  peak RSS {max(prss) / 1024:6.0f} MB")
print(f"ratio go/pytorch  median {statistics.median(ratio):.3f}  min {min(ratio):.3f}  max {max(ratio):.3f}  (per interleaved pair)")
with open(sys.argv[1] + ".result", "w") as f:
    print(f"RESULT backbone={backbone} schedule={schedule} blas={blas} ratio={statistics.median(ratio):.3f} "
          f"ratio_min={min(ratio):.3f} ratio_max={max(ratio):.3f} go_img_s={statistics.median(go):.1f} "
          f"torch_img_s={statistics.median(py):.1f} go_rss_mb={max(grss) / 1024:.0f} torch_rss_mb={max(prss) / 1024:.0f} "
          f"go_allocs_op={statistics.median(allocs):.0f} load={statistics.median(load):.2f}", file=f)
PY
done
for setting in $BLAS; do cat "$tmp/runs.$setting.result"; done
