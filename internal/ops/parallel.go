package ops

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// maxWorkers bounds the goroutines one kernel splits its work across: one
// per P (2 on the reference machine), at most 64 (the width of the used
// mask). BLAS runs single-threaded inside each worker (see blas.go).
var maxWorkers = min(runtime.GOMAXPROCS(0), 64)

// parallelForWorker calls f(worker, lo, hi, first) on chunks [lo,hi) that
// cover [0,n), from up to maxWorkers goroutines (worker 0 is the caller's),
// and waits for all. Workers pull the next chunk when they finish one, so a
// worker whose core is taken by another process does not hold the others
// back. first is true on a worker's first chunk (to initialise its
// scratch); the result has bit k set when worker k ran at least one chunk.
func parallelForWorker(n int, f func(worker, lo, hi int, first bool)) (used uint64) {
	if n <= 0 {
		return 0
	}
	if min(maxWorkers, n) == 1 {
		f(0, 0, n, true)
		return 1
	}
	l := newLoop(n)
	l.body = f
	return l.runAll()
}

// ParallelFor is parallelFor for other packages' loops (the optimizer's).
func ParallelFor(n int, f func(lo, hi int)) { parallelFor(n, f) }

// parallelFor calls f on disjoint chunks [lo,hi) covering [0,n), in parallel.
func parallelFor(n int, f func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if min(maxWorkers, n) == 1 {
		f(0, n)
		return
	}
	l := newLoop(n)
	l.span = f
	l.runAll()
}

// loop is one parallel loop's shared state. Loops are recycled (loops) and
// call their body directly, whichever form it has, so a kernel's loop
// allocates only its body's closure: a swin batch runs ~350 loops, which
// allocated ~10 objects each when the counter, lock, wait group, wrapping
// closures and helper goroutines were new every time.
type loop struct {
	n, chunk int
	// One of: body (parallelForWorker), span (parallelFor), or span over
	// row ranges of rowChunk rows each, rows in all (parallelRows).
	body           func(worker, lo, hi int, first bool)
	span           func(lo, hi int)
	rowChunk, rows int

	next atomic.Int64
	used atomic.Uint64
	wg   sync.WaitGroup
}

var loops = sync.Pool{New: func() any { return new(loop) }}

func newLoop(n int) *loop {
	l := loops.Get().(*loop)
	w := min(maxWorkers, n)
	// About four chunks per worker: fine enough to balance, coarse enough
	// that the atomic counter costs nothing.
	l.n, l.chunk = n, max(1, n/(4*w))
	l.next.Store(0)
	l.used.Store(0)
	return l
}

// runAll runs the loop on the caller and min(maxWorkers, n)-1 helpers,
// waits for all, recycles the loop and returns the used mask.
func (l *loop) runAll() uint64 {
	alone := activeLoops.Add(1) == 1
	for k := 1; k < min(maxWorkers, l.n); k++ {
		if alone {
			// No other loop runs, so every helper is waiting or about to
			// (just past the previous loop): the send is immediate.
			l.wg.Add(1)
			idleHelpers <- helperJob{l, k}
			continue
		}
		l.wg.Add(1)
		select {
		case idleHelpers <- helperJob{l, k}: // a waiting helper took it
		default:
			// Every helper is in another loop (runs trained side by side,
			// or a loop inside a loop): the cores are busy, so this loop's
			// caller does the rest itself and never waits for another.
			l.wg.Done()
			k = maxWorkers
		}
	}
	l.run(0)
	l.wg.Wait()
	activeLoops.Add(-1)
	used := l.used.Load()
	l.body, l.span, l.rowChunk, l.rows = nil, nil, 0, 0
	loops.Put(l)
	return used
}

// idleHelpers hands a loop's worker k to one of the maxWorkers-1 helper
// goroutines started once for the process (unbuffered: a send completes only
// when a helper waits). Starting a goroutine per worker and loop cost an
// allocation each (~650 per swin batch). activeLoops counts the loops
// running in the process.
var (
	idleHelpers = make(chan helperJob)
	activeLoops atomic.Int64
)

type helperJob struct {
	l      *loop
	worker int
}

func init() {
	for range maxWorkers - 1 {
		go func() {
			for j := range idleHelpers {
				j.l.help(j.worker)
			}
		}()
	}
}

func (l *loop) help(worker int) {
	defer l.wg.Done()
	l.run(worker)
}

func (l *loop) run(worker int) {
	first := true
	for {
		lo := int(l.next.Add(int64(l.chunk))) - l.chunk
		if lo >= l.n {
			return
		}
		hi := min(lo+l.chunk, l.n)
		if first {
			l.used.Or(1 << worker)
		}
		switch {
		case l.body != nil:
			l.body(worker, lo, hi, first)
		case l.rowChunk > 0:
			for t := lo; t < hi; t++ {
				l.span(t*l.rowChunk, min((t+1)*l.rowChunk, l.rows))
			}
		default:
			l.span(lo, hi)
		}
		first = false
	}
}
