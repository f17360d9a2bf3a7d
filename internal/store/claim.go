package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Workers claim runs: any number of identical `workbench worker` processes,
// on any number of machines, share one store and take queued runs one at a
// time. A claim writes a fresh owner token into the run; every later write
// of the worker (heartbeat, end, release) is guarded by that token, so a
// worker that lost its lease (it stalled, another worker re-queued and took
// the run) cannot overwrite what the new owner does.

// DefaultMaxAttempts is how many times a run's worker may die under it
// (its lease expires) before the run is failed instead of queued again.
const DefaultMaxAttempts = 3

// ErrLeaseLost is returned (wrapped) by a guarded write whose run is no
// longer owned by the lease: it was re-queued and perhaps claimed again.
var ErrLeaseLost = errors.New("lease lost")

// Lease is a worker's hold on a run it claimed.
type Lease struct {
	RunID   int64
	Token   string // the run's owner while the lease holds
	Attempt int    // 1 for the first start
}

var claims atomic.Int64

// newClaimToken is unique per claim; its prefix is the process's token, so
// that the stale-run sweep still recognises runs of this process. A
// worker's lease is "process/claim": when its heartbeat stops, any worker
// re-queues the run (RequeueExpired). The local runner's is "process#claim":
// its runs are this process's alone, and when the process is gone the
// sweep at open (RecoverStale) marks them interrupted, as before leases.
func newClaimToken(local bool) string {
	sep := "/"
	if local {
		sep = "#"
	}
	return fmt.Sprintf("%s%s%d", ProcessToken, sep, claims.Add(1))
}

// processOf is the process token of an owner token ("" stays "").
func processOf(owner string) string {
	if i := strings.IndexAny(owner, "/#"); i >= 0 {
		return owner[:i]
	}
	return owner
}

// ClaimFilter limits which queued runs a worker takes.
type ClaimFilter struct {
	Studies []string // runs of these studies (through study_runs); empty: any
	IDs     []int64  // only these runs; empty: any
	// Owner: the runs queued by this owner. "" (workers) takes runs nobody
	// owns; the local runner passes its process token to take the runs it
	// queued itself, which no worker takes.
	Owner string
}

// ClaimRun takes the oldest queued run for the worker p: the run becomes
// running with p's provenance, a fresh heartbeat, one more attempt and a
// new owner token, in one statement (PostgreSQL: FOR UPDATE SKIP LOCKED, so
// workers never wait on each other's candidates; SQLite: the write lock).
// It returns ErrNotFound (wrapped) when no run is queued.
func (s *Store) ClaimRun(ctx context.Context, p Provenance, f ClaimFilter) (Run, Lease, error) {
	token := newClaimToken(f.Owner != "")
	now := ms(time.Now())
	// Only runs of f.Owner: a queued run with an owner waits for a slot in
	// the local runner (workbench run) that queued it.
	pick := "SELECT id FROM runs WHERE status = 'queued' AND owner = ?"
	args := []any{now, now, p.Host, p.PID, token, p.GoVersion, p.GitCommit, p.GitDirty, p.CodeVersion, p.BLAS, f.Owner}
	if len(f.IDs) > 0 {
		pick += " AND id IN (" + placeholders(len(f.IDs)) + ")"
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if len(f.Studies) > 0 {
		pick += " AND id IN (SELECT run_id FROM study_runs WHERE study IN (" + placeholders(len(f.Studies)) + "))"
		for _, st := range f.Studies {
			args = append(args, st)
		}
	}
	pick += " ORDER BY id LIMIT 1" + s.db.d.skipLocked()
	// On PostgreSQL the claim runs on a connection of its own that takes
	// the run's lease lock in the same statement and keeps it for the run
	// (lease_lock.go); its token says whether it got the lock.
	owner := "?"
	if s.db.d.name() == "postgres" {
		owner = "? || CASE WHEN pg_try_advisory_lock(?, id::int4) THEN '" + lockMark + "' ELSE '' END"
		args = append(args[:5], append([]any{s.lockClass}, args[5:]...)...)
	}
	query := `UPDATE runs SET status = 'running', error = '', diverged_step = NULL,
			started = COALESCE(started, ?), ended = NULL, heartbeat = ?, attempts = attempts + 1,
			host = ?, pid = ?, owner = ` + owner + `, go_version = ?, git_commit = ?, git_dirty = ?, code_version = ?, blas = ?
		WHERE id = (` + pick + `) AND status = 'queued'
		RETURNING id, attempts, owner`
	var id int64
	var attempts int
	var err error
	if s.db.d.name() == "postgres" {
		id, attempts, token, err = s.claimLocked(ctx, query, args)
	} else {
		err = s.db.QueryRowContext(ctx, query, args...).Scan(&id, &attempts, &token)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, Lease{}, fmt.Errorf("store: claim a run: none queued: %w", ErrNotFound)
	}
	if err != nil {
		return Run{}, Lease{}, fmt.Errorf("store: claim a run: %w", err)
	}
	r, err := s.Run(ctx, id)
	if err != nil {
		return Run{}, Lease{}, err
	}
	return r, Lease{RunID: id, Token: token, Attempt: attempts}, nil
}

// claimLocked runs the claim on a connection of its own (PostgreSQL), kept
// while the lease holds its lock.
func (s *Store) claimLocked(ctx context.Context, query string, args []any) (id int64, attempts int, token string, err error) {
	conn := s.holds.get()
	if conn == nil {
		cctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
		defer cancel()
		if conn, err = pgx.Connect(cctx, s.dsn); err != nil {
			return 0, 0, "", err
		}
	}
	err = conn.QueryRow(ctx, numbered(query), args...).Scan(&id, &attempts, &token)
	switch {
	case err == nil && locked(token):
		s.holds.put(token, conn)
	case err == nil || errors.Is(err, pgx.ErrNoRows):
		s.holds.park(conn) // no lock taken: reusable as it is
	default:
		conn.Close(context.Background())
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = sql.ErrNoRows
	}
	return id, attempts, token, err
}

// guarded runs an update of the leased run that must only happen while the
// lease holds; ErrLeaseLost when the run has another owner or is no longer
// running.
func (s *Store) guarded(ctx context.Context, l Lease, what, set string, args ...any) error {
	args = append(args, l.RunID, l.Token)
	res, err := s.db.ExecContext(ctx, "UPDATE runs SET "+set+" WHERE id = ? AND owner = ? AND status = 'running'", args...)
	if err != nil {
		return fmt.Errorf("store: %s run %d: %w", what, l.RunID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		s.holds.drop(l.Token)
		return fmt.Errorf("store: %s run %d: %w", what, l.RunID, ErrLeaseLost)
	}
	return nil
}

// Renew refreshes the lease's heartbeat and writes the run's progress.
func (s *Store) Renew(ctx context.Context, l Lease, p Progress) error {
	latest, err := encodeLatest(p.Latest)
	if err != nil {
		return fmt.Errorf("store: renew run %d: %w", l.RunID, err)
	}
	return s.guarded(ctx, l, "renew", `heartbeat = ?, step = ?, batch = ?, total_batches = ?, epoch = ?,
		images_per_sec = ?, latest = ?`, ms(time.Now()), p.Step, p.Batch, p.TotalBatches, p.Epoch,
		finiteOr0(p.ImagesPerSec), latest)
}

// Release gives a leased run back to the queue (a worker told to stop —
// SIGTERM, preemption, eviction — after its checkpoint): another worker
// continues it from that checkpoint.
func (s *Store) Release(ctx context.Context, l Lease, why string) error {
	defer s.holds.drop(l.Token)
	return s.guarded(ctx, l, "release", "status = 'queued', owner = '', error = ?, heartbeat = ?", why, ms(time.Now()))
}

// EndLeased records the end of a leased run (see EndRun), only while the
// lease holds.
func (s *Store) EndLeased(ctx context.Context, l Lease, e End) error {
	defer s.holds.drop(l.Token)
	return s.endRun(ctx, l.RunID, e, l.Token)
}

// RequeueExpired puts back every leased run whose heartbeat is older than
// grace (its worker died or lost its connection): queued again, or failed
// with the reason once its worker has died under it maxAttempts times (0:
// the default). Graceful releases do not count. Any worker calls it before claiming; the TUI and `workbench
// runs` may too.
func (s *Store) RequeueExpired(ctx context.Context, grace time.Duration, maxAttempts int) (requeued, failed []int64, err error) {
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	cutoff := ms(time.Now().Add(-grace))
	// Leased runs only (owner "process/claim"): a local runner's runs are
	// found by the stale sweep (RecoverStale) instead. Expired: no
	// heartbeat for grace, or (PostgreSQL) a lease lock nobody holds.
	expiry, args := "(heartbeat IS NULL OR heartbeat < ?)", []any{cutoff}
	if s.db.d.name() == "postgres" {
		expiry = `(heartbeat IS NULL OR heartbeat < ? OR (owner LIKE '%` + lockMark + `' AND NOT EXISTS (SELECT 1 FROM pg_locks l
			WHERE l.locktype = 'advisory' AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
				AND l.classid::bigint = ? AND l.objid::bigint = runs.id AND l.objsubid = 2)))`
		args = append(args, s.lockClass)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, lost_leases + 1, host, pid, heartbeat IS NOT NULL AND heartbeat >= ? FROM runs
		WHERE status = 'running' AND owner LIKE '%/%' AND `+expiry, append([]any{cutoff}, args...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: find expired leases: %w", err)
	}
	type expired struct {
		id     int64
		lost   int // lost leases, this one included
		host   string
		pid    int
		byLock bool // the heartbeat is fresh, the lock free
	}
	var found []expired
	for rows.Next() {
		var e expired
		if err := rows.Scan(&e.id, &e.lost, &e.host, &e.pid, &e.byLock); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("store: find expired leases: %w", err)
		}
		found = append(found, e)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, fmt.Errorf("store: find expired leases: %w", err)
	}
	now := ms(time.Now())
	for _, e := range found {
		why := fmt.Sprintf("lease expired: no heartbeat from pid %d on %s for %s", e.pid, e.host, grace)
		if e.byLock {
			why = fmt.Sprintf("lease expired: the database connection of pid %d on %s is gone (its lease lock is free)", e.pid, e.host)
		}
		status, list := "queued", &requeued
		if e.lost >= maxAttempts {
			status, list = "failed", &failed
			why = fmt.Sprintf("%s (its worker died %d times, the limit)", why, e.lost)
		}
		// Only if nothing changed since we looked.
		res, err := s.db.ExecContext(ctx, `UPDATE runs SET status = ?, owner = '', error = ?, heartbeat = ?,
				lost_leases = lost_leases + 1, ended = CASE WHEN ? = 'failed' THEN ? ELSE ended END
			WHERE id = ? AND status = 'running' AND owner LIKE '%/%' AND `+expiry,
			append([]any{status, why, now, status, now, e.id}, args...)...)
		if err != nil {
			return requeued, failed, fmt.Errorf("store: requeue run %d: %w", e.id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			*list = append(*list, e.id)
		}
	}
	return requeued, failed, nil
}

// Requeue puts an interrupted or failed run back in the queue for any
// worker (owner none); it continues from its checkpoint when claimed.
func (s *Store) Requeue(ctx context.Context, id int64) error {
	return s.requeue(ctx, id, "owner = ''")
}

// RequeueFor puts an interrupted or failed run back in the queue of the
// local runner with provenance p: owned by p's process, so that only it
// claims the run (ClaimFilter.Owner) and its heartbeat keeps it alive.
func (s *Store) RequeueFor(ctx context.Context, id int64, p Provenance) error {
	return s.requeue(ctx, id, "owner = ?, host = ?, pid = ?", p.OwnerToken(), p.Host, p.PID)
}

func (s *Store) requeue(ctx context.Context, id int64, set string, args ...any) error {
	args = append(args, ms(time.Now()), id)
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET status = 'queued', `+set+`, error = '', heartbeat = ?, lost_leases = 0
		WHERE id = ? AND status IN ('interrupted', 'failed') AND NOT EXISTS (SELECT 1 FROM runs AS live
			WHERE live.config_hash = runs.config_hash AND live.status IN ('queued', 'running'))`, args...)
	if err != nil {
		return fmt.Errorf("store: requeue run %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: requeue run %d: not interrupted or failed, or an identical run is queued or running: %w", id, ErrConflict)
	}
	return nil
}

// SuspectLeases counts the running leased runs whose heartbeat is older than
// quiet: their worker may be dead, and a worker that has nothing to do
// should stay until the grace period decides (RequeueExpired), or nobody
// would be left to continue them.
func (s *Store) SuspectLeases(ctx context.Context, quiet time.Duration) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs
		WHERE status = 'running' AND owner LIKE '%/%' AND (heartbeat IS NULL OR heartbeat < ?)`,
		ms(time.Now().Add(-quiet))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count suspect leases: %w", err)
	}
	return n, nil
}
