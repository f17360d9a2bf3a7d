package train

import (
	"context"
	"runtime"
	"testing"
)

// TestRunsReleaseTheirMemory: a process that trains run after run (reproduce,
// a worker) holds no memory of the runs it finished. gorgonia's finalizer on
// its tape machines used to keep every run's graphs and op buffers alive
// (+177 MB per run of the benchmark batch).
func TestRunsReleaseTheirMemory(t *testing.T) {
	c := DefaultConfig()
	c.Dataset = "synthetic:classes=4,train=16,test=8"
	c.Epochs, c.LogEvery = 1, 1
	ds := open(t, c)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	var after []uint64
	for i := range 4 {
		c.Seed = int64(i + 1)
		if _, err := Run(context.Background(), c, ds, Options{}); err != nil {
			t.Fatal(err)
		}
		after = append(after, heap())
	}
	if grown := int64(after[3]) - int64(after[0]); grown > 20<<20 {
		t.Fatalf("the heap grew by %d MB over three more runs (%v bytes after each): finished runs are kept in memory", grown>>20, after)
	}
}
