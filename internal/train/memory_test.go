package train

import (
	"runtime"
	"strings"
	"testing"
)

// TestMemoryEstimate compares the estimate with what the benchmark batch
// (DESIGN §2's reference resnet, batch 32, two-step) really keeps after a
// few updates: the estimate must be neither far below (the check would let
// a run be killed) nor far above (it would refuse runs that fit).
func TestMemoryEstimate(t *testing.T) {
	c := DefaultConfig()
	c.Dataset = "synthetic:classes=10,train=8,test=4"
	ds := open(t, c)
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	tr, err := newTrainer(c, ds, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.close()
	loadFirstBatch(t, tr)
	for range 2 {
		for _, ug := range tr.updates {
			if err := tr.step(ug, 1e-3); err != nil {
				t.Fatal(err)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	kept := int64(ms.HeapAlloc - before)
	est := tr.memoryEstimate()
	t.Logf("estimate %.1f MB, kept after two batches %.1f MB (ratio %.2f)", float64(est)/1e6, float64(kept)/1e6, float64(est)/float64(kept))
	if est < kept*3/4 || est > kept*3 {
		t.Fatalf("estimate %d bytes, the run keeps %d", est, kept)
	}
}

func TestMemoryCheckRefusesHugeBatch(t *testing.T) {
	c := tinyConfig()
	c.ImageSize = 128
	c.Widths = []int{256, 256, 512, 512}
	c.Dataset = "synthetic:classes=4,train=128,test=2"
	c.BatchSize = 512
	ds := open(t, c)
	tr, err := newTrainer(c, ds, Options{})
	if err == nil {
		tr.close()
		t.Skip("this machine has the memory for a batch of 512 at 128 px with 512-wide stages")
	}
	if !strings.Contains(err.Error(), "config: batch_size = 512 at image_size = 128 needs ~") || !strings.HasSuffix(err.Error(), "lower batch_size, image_size or the widths") {
		t.Fatalf("err %v", err)
	}
}
