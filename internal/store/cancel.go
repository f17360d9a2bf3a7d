package store

import (
	"context"
	"fmt"
	"time"
)

// Cancel stops queued and running runs from anywhere: each becomes
// interrupted with the reason, its owner cleared, in one statement per run.
// A queued run is never claimed; a running one's process (a worker on
// another host, a local runner) finds its lease gone at its next heartbeat
// or checkpoint and stops, keeping its last committed checkpoint, so
// `workbench resume` can continue it later. It returns the runs it
// stopped; runs that were not queued or running are left alone.
func (s *Store) Cancel(ctx context.Context, ids []int64, why string) ([]int64, error) {
	var stopped []int64
	now := ms(time.Now())
	for _, id := range ids {
		res, err := s.db.ExecContext(ctx, `UPDATE runs SET status = 'interrupted', owner = '', error = ?, ended = ?
			WHERE id = ? AND status IN ('queued', 'running')`, why, now, id)
		if err != nil {
			return stopped, fmt.Errorf("store: cancel run %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			stopped = append(stopped, id)
		}
	}
	return stopped, nil
}
