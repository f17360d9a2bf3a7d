#!/bin/sh
# Stop what scripts/cluster-up.sh started. Its state directory is kept
# (remove $WORKBENCH_CLUSTER_DIR to start from scratch).
set -u
dir=${WORKBENCH_CLUSTER_DIR:-/tmp/workbench-cluster}
say() { echo "cluster-down: $*" >&2; }
for d in slurmd slurmctld; do
	if pkill -x "$d"; then say "stopped $d"; fi
done
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -n "$pgbin" ] && [ -s "$dir/pg/data/PG_VERSION" ]; then
	su postgres -s /bin/sh -c "$pgbin/pg_ctl -D '$dir/pg/data' -m fast -w stop" >/dev/null 2>&1 && say "stopped PostgreSQL"
fi
if pkill -x munged; then say "stopped munged"; fi
exit 0
