package store

import (
	"context"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// On PostgreSQL a worker's lease is also a session advisory lock on the run,
// taken in the statement that claims it, on a connection the worker holds
// for the whole run. When the worker dies — kill -9, a lost node, an OOM
// kill — the server closes its connection and frees the lock at once: the
// next worker that looks (RequeueExpired) re-queues the run then, instead
// of after the heartbeat's grace period. A lease that could not take its
// lock (a stalled former owner still holds it) has no "+lock" mark in its
// token and falls back to the heartbeat alone.

const lockMark = "+lock"

// leaseHolds are the connections holding this process's lease locks, by
// lease token. They are dialled for the claim and are not the store's pool:
// a process holding as many leases as its pool has connections must still
// be able to write.
type leaseHolds struct {
	mu    sync.Mutex
	conns map[string]*pgx.Conn
	idle  []*pgx.Conn // unlocked, for the next claims
}

// maxIdleLeaseConns bounds the lease connections kept between claims.
const maxIdleLeaseConns = 16

// get is an idle lease connection, or nil.
func (h *leaseHolds) get() *pgx.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.idle); n > 0 {
		c := h.idle[n-1]
		h.idle = h.idle[:n-1]
		return c
	}
	return nil
}

// park keeps an unlocked connection for a later claim, or closes it.
func (h *leaseHolds) park(c *pgx.Conn) {
	h.mu.Lock()
	if len(h.idle) < maxIdleLeaseConns && !c.IsClosed() {
		h.idle = append(h.idle, c)
		c = nil
	}
	h.mu.Unlock()
	if c != nil {
		c.Close(context.Background())
	}
}

func (h *leaseHolds) put(token string, c *pgx.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns == nil {
		h.conns = map[string]*pgx.Conn{}
	}
	h.conns[token] = c
}

// drop frees a lease's lock and its connection (nothing when it has none).
func (h *leaseHolds) drop(token string) {
	h.mu.Lock()
	c := h.conns[token]
	delete(h.conns, token)
	h.mu.Unlock()
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.Exec(ctx, "SELECT pg_advisory_unlock_all()"); err != nil {
		c.Close(ctx)
		return
	}
	h.park(c)
}

// dropAll frees every lease lock (Close).
func (h *leaseHolds) dropAll() {
	h.mu.Lock()
	tokens := make([]string, 0, len(h.conns))
	for t := range h.conns {
		tokens = append(tokens, t)
	}
	h.mu.Unlock()
	for _, t := range tokens {
		h.drop(t)
	}
	h.mu.Lock()
	idle := h.idle
	h.idle = nil
	h.mu.Unlock()
	for _, c := range idle {
		c.Close(context.Background())
	}
}

// lockClass is the first key of this schema's lease locks (the run id is
// the second), so that stores in several schemas of one database do not
// share locks.
func lockClass(schema string) int32 {
	h := fnv.New32a()
	h.Write([]byte("workbench lease " + schema))
	return int32(h.Sum32() & 0x7fffffff)
}

// locked reports whether a lease token says its lease holds a lock.
func locked(token string) bool { return strings.HasSuffix(token, lockMark) }
