package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// HeartbeatEvery is how often a runner refreshes the heartbeat of its runs.
const HeartbeatEvery = 5 * time.Second

// StaleAfter is how old a heartbeat may grow before its run counts as dead,
// whatever its recorded process.
const StaleAfter = 2 * time.Minute

// ProcessToken identifies this process among all processes that ever had
// its pid: a random value made at start, recorded as the owner of the runs
// it queues and runs.
var ProcessToken = newProcessToken()

func newProcessToken() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return fmt.Sprintf("t%d-%d", os.Getpid(), time.Now().UnixNano())
	}
	return hex.EncodeToString(b)
}

// StaleOptions say which queued or running runs belong to a process that is
// gone. Zero fields take the defaults.
type StaleOptions struct {
	Host  string           // this machine (default os.Hostname)
	Alive func(int) bool   // whether a pid on this machine is alive (default: signal 0)
	After time.Duration    // heartbeat age that makes any run stale (default StaleAfter)
	Now   func() time.Time // clock (default time.Now)
	// PID and Token are this process's pid and ProcessToken (defaults): a
	// run recorded with our pid but another token is an earlier process's.
	PID   int
	Token string
	// DryRun only lists the runs that would be marked.
	DryRun bool
}

func (o StaleOptions) withDefaults() StaleOptions {
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	if o.Alive == nil {
		o.Alive = ProcessAlive
	}
	if o.After <= 0 {
		o.After = StaleAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PID == 0 {
		o.PID = os.Getpid()
	}
	if o.Token == "" {
		o.Token = ProcessToken
	}
	return o
}

// ProcessAlive reports whether a process with this pid exists on this machine.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// RecoverStale marks interrupted every queued or running run whose owner is
// gone: its process is dead on this host, or its heartbeat is older than
// opt.After. It returns the ids it marked. Open calls it, so that every
// workbench command finds runs left behind by a crash or kill -9.
func (s *Store) RecoverStale(ctx context.Context, opt StaleOptions) ([]int64, error) {
	opt = opt.withDefaults()
	// A queued run without an owner waits for any worker (workbench
	// submit, a released run): nobody is gone. A run a worker claimed
	// (its owner is a lease token, "process/claim") is the workers'
	// business: its lease expires and it is queued again (RequeueExpired).
	rows, err := s.db.QueryContext(ctx, `SELECT id, status, host, pid, owner, heartbeat FROM runs
		WHERE (status = 'running' OR (status = 'queued' AND owner <> '')) AND owner NOT LIKE '%/%'`)
	if err != nil {
		return nil, fmt.Errorf("store: find stale runs: %w", err)
	}
	var cands []staleCandidate
	for rows.Next() {
		var c staleCandidate
		if err := rows.Scan(&c.id, &c.status, &c.host, &c.pid, &c.owner, &c.beat); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: find stale runs: %w", err)
		}
		cands = append(cands, c)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("store: find stale runs: %w", err)
	}
	now := opt.Now()
	var marked []int64
	for _, c := range cands {
		var why string
		switch {
		case c.host == opt.Host && !opt.Alive(c.pid):
			why = fmt.Sprintf("its process %d on %s is gone", c.pid, c.host)
		case c.host == opt.Host && c.pid == opt.PID && c.owner != "" && processOf(c.owner) != opt.Token:
			why = fmt.Sprintf("its process %d on %s is gone (the pid now belongs to another process)", c.pid, c.host)
		case c.beat == nil:
			why = fmt.Sprintf("process %d on %s never sent a heartbeat", c.pid, c.host)
		case now.Sub(time.UnixMilli(*c.beat)) > opt.After:
			why = fmt.Sprintf("no heartbeat from process %d on %s since %s", c.pid, c.host,
				time.UnixMilli(*c.beat).Format(time.RFC3339))
		default:
			continue
		}
		if opt.DryRun {
			marked = append(marked, c.id)
			continue
		}
		// Only if nothing changed since we looked (its owner may just have ended it).
		res, err := s.db.ExecContext(ctx, `UPDATE runs SET status = 'interrupted', error = ?, ended = ?
			WHERE id = ? AND status = ? AND pid = ? AND heartbeat IS NOT DISTINCT FROM ?`,
			"interrupted: "+why, ms(now), c.id, c.status, c.pid, c.beat)
		if err != nil {
			return marked, fmt.Errorf("store: mark run %d interrupted: %w", c.id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			marked = append(marked, c.id)
		}
	}
	return marked, nil
}

type staleCandidate struct {
	id     int64
	status string
	host   string
	pid    int
	owner  string
	beat   *int64 // NULL: never
}
