package ops

import (
	"runtime"
	"sync"
)

// maxWorkers bounds the goroutines one kernel splits its work across. The
// reference machine has 2 cores; BLAS runs single-threaded inside each
// worker (see blas.go).
var maxWorkers = min(runtime.GOMAXPROCS(0), 2)

// parallelFor calls f on contiguous, disjoint parts [lo,hi) of [0,n), in
// up to maxWorkers goroutines, and returns when all are done.
func parallelFor(n int, f func(lo, hi int)) {
	w := min(maxWorkers, n)
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := chunk; lo < n; lo += chunk {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+chunk, n))
	}
	f(0, min(chunk, n))
	wg.Wait()
}
