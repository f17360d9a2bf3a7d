package ops

import (
	"runtime"
	"sync"
)

// maxWorkers bounds the goroutines one kernel splits its work across. The
// reference machine has 2 cores; BLAS runs single-threaded inside each
// worker (see blas.go).
var maxWorkers = min(runtime.GOMAXPROCS(0), 2)

// split divides n items into workers contiguous chunks of chunk items
// (the last may be shorter); every worker gets at least one item.
func split(n int) (workers, chunk int) {
	if n <= 0 {
		return 0, 0
	}
	w := min(maxWorkers, n)
	chunk = (n + w - 1) / w
	return (n + chunk - 1) / chunk, chunk
}

// parallelForWorker calls f(worker, lo, hi) on the chunks of split(n), each
// in its own goroutine (worker 0 in the caller's), and waits for all.
func parallelForWorker(n int, f func(worker, lo, hi int)) {
	workers, chunk := split(n)
	if workers <= 1 {
		if n > 0 {
			f(0, 0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for k := 1; k < workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			f(k, k*chunk, min((k+1)*chunk, n))
		}(k)
	}
	f(0, 0, chunk)
	wg.Wait()
}

// parallelFor calls f on the disjoint chunks [lo,hi) of [0,n) in parallel.
func parallelFor(n int, f func(lo, hi int)) {
	parallelForWorker(n, func(_, lo, hi int) { f(lo, hi) })
}
