package store

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// notifyChannel is where PostgreSQL announces run changes (migration 9).
const notifyChannel = "workbench_runs"

// Watch tells a view when runs changed in any process on any host: a
// value arrives on the channel soon after a transaction that created,
// claimed, progressed, checkpointed or ended a run commits (several changes
// may arrive as one). On PostgreSQL it LISTENs on its own connection. It
// returns nil when the backend cannot announce changes (SQLite: one
// machine, no server) and closes the channel when the connection is lost
// or ctx ends; either way the caller falls back to polling.
func (s *Store) Watch(ctx context.Context) <-chan struct{} {
	if s.db.d.name() != "postgres" {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan struct{}, 1)
	ready := make(chan error, 1)
	go func() {
		defer cancel()
		defer close(ch)
		conn, err := s.db.Conn(ctx)
		if err != nil {
			ready <- err
			return
		}
		defer conn.Close()
		conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			if _, err := pc.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
				ready <- err
				return driver.ErrBadConn
			}
			ready <- nil
			for {
				if _, err := pc.WaitForNotification(ctx); err != nil {
					// Do not give a listening connection back to the pool.
					return driver.ErrBadConn
				}
				select {
				case ch <- struct{}{}:
				default: // a change is already waiting to be read
				}
			}
		})
	}()
	select {
	case err := <-ready:
		if err == nil {
			return ch
		}
	case <-time.After(ConnectTimeout):
	}
	cancel()
	return nil
}
