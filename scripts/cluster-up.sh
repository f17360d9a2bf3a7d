#!/bin/sh
# Start the services a scaled-out study uses, on this machine, as root:
# a PostgreSQL server (unix socket and 127.0.0.1) with a database
# "workbench", and — when the Slurm packages are installed — munged and a
# single-node Slurm cluster. Nothing is started by installing the Debian
# packages; this script is how users and the tests bring them up.
#
#   apt-get install -y postgresql slurmctld slurmd slurm-client munge
#   eval "$(scripts/cluster-up.sh)"     # sets WORKBENCH_TEST_PG and SLURM_CONF
#   ...
#   scripts/cluster-down.sh
#
# State lives in $WORKBENCH_CLUSTER_DIR (default /tmp/workbench-cluster);
# the port is $WORKBENCH_PG_PORT (default 55432). Progress goes to stderr,
# the environment to stdout (also written to $WORKBENCH_CLUSTER_DIR/env).
set -eu

dir=${WORKBENCH_CLUSTER_DIR:-/tmp/workbench-cluster}
port=${WORKBENCH_PG_PORT:-55432}
say() { echo "cluster-up: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it starts daemons and runs initdb as the postgres user)"
mkdir -p "$dir"
chmod 755 "$dir"
env_file=$dir/env
: > "$env_file"

# --- PostgreSQL -------------------------------------------------------------
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || die "PostgreSQL is not installed: apt-get install -y postgresql"
id postgres >/dev/null 2>&1 || die "no postgres user (the postgresql package creates it)"
pgdata=$dir/pg/data
mkdir -p "$dir/pg"
chown postgres:postgres "$dir/pg"
if [ ! -s "$pgdata/PG_VERSION" ]; then
	say "initdb $pgdata"
	su postgres -s /bin/sh -c "$pgbin/initdb -D '$pgdata' -A trust -U postgres --no-sync" >"$dir/pg/initdb.log" 2>&1 ||
		die "initdb failed: see $dir/pg/initdb.log"
fi
if su postgres -s /bin/sh -c "$pgbin/pg_ctl -D '$pgdata' status" >/dev/null 2>&1; then
	say "PostgreSQL already running"
else
	say "starting PostgreSQL on 127.0.0.1:$port"
	su postgres -s /bin/sh -c "$pgbin/pg_ctl -D '$pgdata' -w -t 30 -l '$dir/pg/server.log' \
		-o \"-p $port -k '$dir/pg' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >&2 ||
		die "PostgreSQL did not start: see $dir/pg/server.log"
fi
if ! su postgres -s /bin/sh -c "$pgbin/psql -h '$dir/pg' -p $port -U postgres -tAc \"SELECT 1 FROM pg_database WHERE datname = 'workbench'\"" | grep -q 1; then
	su postgres -s /bin/sh -c "$pgbin/createdb -h '$dir/pg' -p $port -U postgres workbench" >&2
fi
url="postgres://postgres@127.0.0.1:$port/workbench?sslmode=disable"
echo "export WORKBENCH_TEST_PG='$url'" >>"$env_file"

# --- munge and Slurm (optional) ---------------------------------------------
if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
	mkdir -p /run/munge /etc/munge /var/log/munge /var/lib/munge
	if [ ! -s /etc/munge/munge.key ]; then
		dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
	fi
	chown -R munge:munge /run/munge /etc/munge /var/log/munge /var/lib/munge 2>/dev/null || true
	chmod 700 /etc/munge
	chmod 400 /etc/munge/munge.key
	if ! pgrep -x munged >/dev/null; then
		say "starting munged"
		su munge -s /bin/sh -c munged >&2 || munged --force >&2 || die "munged did not start"
	fi

	sdir=$dir/slurm
	mkdir -p "$sdir/state" "$sdir/spool"
	cpus=$(nproc)
	mem=$(awk '/MemTotal/ {print int($2/1024) - 1024}' /proc/meminfo)
	cat >"$sdir/slurm.conf" <<CONF
ClusterName=workbench
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$sdir/state
SlurmdSpoolDir=$sdir/spool
SlurmctldPidFile=$sdir/slurmctld.pid
SlurmdPidFile=$sdir/slurmd.pid
SlurmctldLogFile=$sdir/slurmctld.log
SlurmdLogFile=$sdir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldTimeout=30
SlurmdTimeout=30
KillWait=10
MaxArraySize=10001
NodeName=localhost CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
	cp "$sdir/slurm.conf" /etc/slurm/slurm.conf 2>/dev/null || true
	export SLURM_CONF=$sdir/slurm.conf
	if ! pgrep -x slurmctld >/dev/null; then
		say "starting slurmctld"
		slurmctld -f "$SLURM_CONF" >&2 || die "slurmctld did not start: see $sdir/slurmctld.log"
	fi
	if ! pgrep -x slurmd >/dev/null; then
		say "starting slurmd"
		slurmd -f "$SLURM_CONF" >&2 || die "slurmd did not start: see $sdir/slurmd.log"
	fi
	i=0
	until sinfo -h -o %T 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; do
		i=$((i + 1))
		[ $i -lt 60 ] || die "the Slurm node did not come up: see $sdir/slurmctld.log and $sdir/slurmd.log"
		sleep 0.5
	done
	echo "export SLURM_CONF='$SLURM_CONF'" >>"$env_file"
	say "Slurm up: $(sinfo -h -o '%P %D %T %c')"
else
	say "Slurm not installed (apt-get install -y slurmctld slurmd slurm-client munge): PostgreSQL only"
fi

say "PostgreSQL: $url"
cat "$env_file"
