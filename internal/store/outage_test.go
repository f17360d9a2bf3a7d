package store

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// While the database cannot be reached the writer holds points (up to
// MaxPending, dropping and reporting the rest), and a checkpoint gives up
// after GiveUp with ErrStoreUnreachable, leaving what was committed alone.
func TestWriterGivesUpOnAGoneDatabase(t *testing.T) {
	loc := newLocation(t)
	s, err := openAt(t, loc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ids := queueRuns(t, s, "gone", 1)
	w := s.NewMetricWriter(WriterOptions{Interval: 10 * time.Millisecond, MaxPending: 50, GiveUp: 300 * time.Millisecond})
	for step := range 10 {
		w.Log(Metric{RunID: ids[0], Key: "loss.ce4", Step: step, Value: 1})
	}
	if err := w.Commit(ctx, ids[0], 9); err != nil {
		t.Fatal(err)
	}
	s.db.DB.Close() // the database is gone for good
	for step := 10; step < 100; step++ {
		w.Log(Metric{RunID: ids[0], Key: "loss.ce4", Step: step, Value: 2})
	}
	if st := w.Stats(); st.Pending != 50 || st.Dropped != 40 {
		t.Fatalf("with the database gone: %+v, want 50 pending and 40 dropped", st)
	}
	start := time.Now()
	err = w.Commit(ctx, ids[0], 99)
	if !errors.Is(err, ErrStoreUnreachable) {
		t.Fatalf("checkpoint with the database gone: %v, want ErrStoreUnreachable", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 5*time.Second {
		t.Fatalf("gave up after %s, want about GiveUp (300ms)", d)
	}
	w.Close()

	again, err := openAt(t, loc, Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	r, err := again.Run(ctx, ids[0])
	if err != nil || r.CheckpointStep != 9 {
		t.Fatalf("after the outage: checkpoint step %d (%v), want 9", r.CheckpointStep, err)
	}
	series, err := again.Series(ctx, ids[0:1], []string{"loss.ce4"}, 0)
	if err != nil || len(series) != 1 || len(series[0].Points) != 10 {
		t.Fatalf("committed points after the outage: %+v, %v", series, err)
	}
}

// A network partition between a worker and PostgreSQL: points logged during
// it wait, a checkpoint waits for the connection to come back, and then
// every point is committed exactly once.
func TestWriterRidesOutAPartition(t *testing.T) {
	if !onPostgres() {
		t.Skip("PostgreSQL only: a network partition between a worker and the server")
	}
	loc := newLocation(t)
	setup, err := openAt(t, loc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	ids := queueRuns(t, setup, "partition", 1)

	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, u.Host)
	u.Host = p.addr
	s, err := openAt(t, u.String(), Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	w := s.NewMetricWriter(WriterOptions{Interval: 20 * time.Millisecond, GiveUp: time.Minute})
	defer w.Close()
	for step := range 100 {
		w.Log(Metric{RunID: ids[0], Key: "loss.ce4", Step: step, Value: float64(step)})
	}
	if err := w.Commit(ctx, ids[0], 99); err != nil {
		t.Fatal(err)
	}

	p.cut()
	for step := 100; step < 200; step++ {
		w.Log(Metric{RunID: ids[0], Key: "loss.ce4", Step: step, Value: float64(step)})
	}
	time.Sleep(300 * time.Millisecond) // a few failed background writes
	if st := w.Stats(); st.Pending != 100 {
		t.Fatalf("during the partition: %+v, want the 100 new points waiting", st)
	}
	go func() { time.Sleep(time.Second); p.heal() }()
	start := time.Now()
	if err := w.Commit(ctx, ids[0], 199); err != nil {
		t.Fatalf("checkpoint across the partition: %v", err)
	}
	t.Logf("checkpoint committed %s after the partition began healing", time.Since(start).Round(10*time.Millisecond))
	r, err := setup.Run(ctx, ids[0])
	if err != nil || r.CheckpointStep != 199 {
		t.Fatalf("checkpoint step %d (%v), want 199", r.CheckpointStep, err)
	}
	var n, distinct int
	if err := setup.db.QueryRow("SELECT COUNT(*), COUNT(DISTINCT step) FROM metrics WHERE run_id = ?", ids[0]).Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 200 || distinct != 200 {
		t.Fatalf("%d points (%d distinct steps) after the partition, want 200", n, distinct)
	}
}

// proxy forwards TCP connections to a server until cut; cut closes every
// connection and refuses new ones until heal.
type proxy struct {
	addr string
	mu   sync.Mutex
	down bool
	open []net.Conn
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &proxy{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.open = append(p.open, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.open {
		c.Close()
	}
	p.open = nil
}

func (p *proxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}
