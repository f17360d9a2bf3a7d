package store

import (
	"strings"
	"testing"
	"time"
)

// On PostgreSQL a worker whose database connection is gone (kill -9: the
// server closes it) loses its run at the next look, without waiting for
// the heartbeat's grace period; a live worker's run stays.
func TestLeaseLockHandsOverADeadWorkersRun(t *testing.T) {
	if !onPostgres() {
		t.Skip("PostgreSQL only: lease locks are advisory locks of the server")
	}
	loc := newLocation(t)
	dead, err := openAt(t, loc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	live, err := openAt(t, loc, Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	ids := queueRuns(t, live, "locks", 2)
	_, lost, err := dead.ClaimRun(ctx, worker, ClaimFilter{IDs: ids[:1]})
	if err != nil {
		t.Fatal(err)
	}
	_, kept, err := live.ClaimRun(ctx, worker, ClaimFilter{IDs: ids[1:]})
	if err != nil {
		t.Fatal(err)
	}
	if !locked(lost.Token) || !locked(kept.Token) {
		t.Fatalf("lease tokens %q, %q: want both holding their lock", lost.Token, kept.Token)
	}
	if re, _, err := live.RequeueExpired(ctx, time.Hour, 0); err != nil || len(re) != 0 {
		t.Fatalf("with both workers alive: requeued %v, %v", re, err)
	}

	// The worker is gone: the server ends its session (as on kill -9, when
	// the socket closes), which frees its lock.
	if _, err := live.db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'
		AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 2`, live.lockClass, ids[0]); err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	start := time.Now()
	var re []int64
	for len(re) == 0 && time.Since(start) < 5*time.Second {
		if re, _, err = live.RequeueExpired(ctx, time.Hour, 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(re) != 1 || re[0] != ids[0] {
		t.Fatalf("after the worker's connection closed: requeued %v, want run %d", re, ids[0])
	}
	t.Logf("a dead worker's run re-queued %s after its connection closed (grace: 1 h)", time.Since(start).Round(time.Millisecond))
	r, _ := live.Run(ctx, ids[0])
	if r.Status != Queued || !strings.Contains(r.Error, "lease lock is free") {
		t.Fatalf("re-queued run: %s %q", r.Status, r.Error)
	}
	if r, _ := live.Run(ctx, ids[1]); r.Status != Running {
		t.Fatalf("the live worker's run: %s", r.Status)
	}

	// A claim whose lock is still held by a stalled former owner has no
	// lock of its own: it is left to the heartbeat.
	if _, err := live.db.Exec("SELECT pg_advisory_lock(?, ?)", live.lockClass, ids[0]); err != nil {
		t.Fatal(err)
	}
	other, err := openAt(t, loc, Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, noLock, err := other.ClaimRun(ctx, worker, ClaimFilter{IDs: ids[:1]})
	if err != nil || locked(noLock.Token) {
		t.Fatalf("claim beside a held lock: %q, %v; want a lease without the lock", noLock.Token, err)
	}
	if re, _, err := other.RequeueExpired(ctx, time.Hour, 0); err != nil || len(re) != 0 {
		t.Fatalf("a lease without a lock and a fresh heartbeat was requeued: %v, %v", re, err)
	}
	// Ending the lease frees its connection.
	if err := live.EndLeased(ctx, kept, End{Status: Finished}); err != nil {
		t.Fatal(err)
	}
	if n := len(live.holds.conns); n != 0 {
		t.Fatalf("%d lease connections held after the end", n)
	}
}
