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
	w := min(maxWorkers, n)
	if w == 1 {
		f(0, 0, n, true)
		return 1
	}
	// About four chunks per worker: fine enough to balance, coarse enough
	// that the atomic counter costs nothing.
	chunk := max(1, n/(4*w))
	var next atomic.Int64
	var mu sync.Mutex
	run := func(worker int) {
		first := true
		for {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= n {
				return
			}
			if first {
				mu.Lock()
				used |= 1 << worker
				mu.Unlock()
			}
			f(worker, lo, min(lo+chunk, n), first)
			first = false
		}
	}
	var wg sync.WaitGroup
	for k := 1; k < w; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			run(k)
		}(k)
	}
	run(0)
	wg.Wait()
	return used
}

// parallelFor calls f on disjoint chunks [lo,hi) covering [0,n), in parallel.
func parallelFor(n int, f func(lo, hi int)) {
	parallelForWorker(n, func(_, lo, hi int, _ bool) { f(lo, hi) })
}
