package train

import (
	"syscall"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/ops"
)

// benchConfig is DESIGN §2's reference backbone with two-step MKSMT, sync,
// decision distillation, batch 32, on 10 synthetic classes.
func benchConfig(backbone string) Config {
	c := DefaultConfig()
	c.Dataset = "synthetic:classes=10,train=4,test=1,seed=1"
	if backbone == "swin" {
		c.Backbone, c.Widths = "swin", nil
		c.Depths, c.EmbedDim, c.Heads, c.Window, c.PatchSize, c.MLPRatio = []int{2, 2, 6, 2}, 32, []int{1, 2, 4, 8}, 4, 2, 4
	}
	c.Steps, c.Mode, c.Distill, c.BatchSize = 2, "sync", "decision", 32
	return c
}

// benchmarkBatch measures whole training batches (every update of the
// schedule: forward, backward, AdamW) on one fixed batch of real images,
// after one warm-up batch, and reports images per second.
func benchmarkBatch(b *testing.B, c Config) {
	tr, err := newTrainer(c, open(b, c), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.close()
	it := tr.ds.Batches(b.Context(), trainBatches(c, 0, 0))
	if !it.Next() {
		b.Fatal("no training batch")
	}
	tr.setBatch(it.Batch())
	it.Close()
	batch := func() {
		for _, ug := range tr.updates {
			if err := tr.step(ug, 1e-4); err != nil {
				b.Fatal(err)
			}
		}
	}
	batch()
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for range b.N {
		batch()
	}
	b.ReportMetric(float64(c.BatchSize*b.N)/b.Elapsed().Seconds(), "img/s")
	// CPU time per batch says more than wall time on a loaded machine.
	b.ReportMetric(float64(cpuTime()-cpu)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	// The parameter count, which bench/compare.sh checks its PyTorch peer
	// against (the same architecture has the same count).
	params := 0
	for _, p := range tr.model.Params {
		params += p.Size()
	}
	b.ReportMetric(float64(params), "params")
	// The OpenBLAS kernels this ran on, which compare.sh gives its peer.
	b.Logf("blas_core %s %s", ops.BLASCore, ops.BLASCoreNote)
}

// BenchmarkTrainBatch is one training batch of the reference resnet and
// swin: two-step, sync, decision distillation, batch 32.
//
//	go test -run '^$' -bench 'BenchmarkTrainBatch/' -benchtime 20x ./internal/train
func BenchmarkTrainBatch(b *testing.B) {
	for _, backbone := range []string{"resnet", "swin"} {
		b.Run(backbone, func(b *testing.B) { benchmarkBatch(b, benchConfig(backbone)) })
	}
}

// BenchmarkTrainBatchResNet is BenchmarkTrainBatch/resnet under the name
// bench/compare.sh runs against its PyTorch peer.
func BenchmarkTrainBatchResNet(b *testing.B) { benchmarkBatch(b, benchConfig("resnet")) }

// BenchmarkTrainBatchResNetBaseline is one baseline batch (a single CE(z4)
// update), compare.sh's "baseline" schedule.
func BenchmarkTrainBatchResNetBaseline(b *testing.B) {
	c := benchConfig("resnet")
	c.Steps = 0
	benchmarkBatch(b, c)
}

// BenchmarkTrainBatchSwin is BenchmarkTrainBatch/swin under the name
// bench/compare.sh runs against its PyTorch peer (compare.sh two-step swin).
func BenchmarkTrainBatchSwin(b *testing.B) { benchmarkBatch(b, benchConfig("swin")) }

// BenchmarkTrainBatchSwinBaseline is one baseline swin batch (a single
// CE(z4) update).
func BenchmarkTrainBatchSwinBaseline(b *testing.B) {
	c := benchConfig("swin")
	c.Steps = 0
	benchmarkBatch(b, c)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
