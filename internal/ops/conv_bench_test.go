package ops

import (
	"fmt"
	"testing"

	"gorgonia.org/tensor"
)

// refConvLayers are the distinct convolutions of the reference resnet at
// batch 32: (C, H, O, k, stride, pad).
var refConvLayers = []struct{ c, h, o, k, stride, pad int }{
	{3, 32, 16, 3, 1, 1},   // stem
	{16, 32, 16, 3, 1, 1},  // S1
	{16, 32, 32, 3, 2, 1},  // S2 first
	{32, 16, 32, 3, 1, 1},  // S2
	{16, 32, 32, 1, 2, 0},  // S2 shortcut
	{32, 16, 64, 3, 2, 1},  // S3 first
	{64, 8, 64, 3, 1, 1},   // S3
	{64, 8, 128, 3, 2, 1},  // S4 first
	{128, 4, 128, 3, 1, 1}, // S4
}

// BenchmarkConvLayers times each reference convolution's forward and
// backward (dx and dw) kernels, float32, batch 32: OpenBLAS (conv.go's,
// which float64 uses) and oneDNN (which float32 uses).
func BenchmarkConvLayers(b *testing.B) {
	for _, l := range refConvLayers {
		g := newConvGeom(tensor.Shape{32, l.c, l.h, l.h}, tensor.Shape{l.o, l.c, l.k, l.k}, l.stride, l.pad)
		rng := caseRNG("conv-bench", 1)
		fill := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		x, w := fill(g.n*g.inSize), fill(g.o*g.ckk)
		y, dy := make([]float32, g.n*g.outSiz), fill(g.n*g.outSiz)
		dx, dw := make([]float32, len(x)), make([]float32, len(w))
		ws := workspaces[float32](&convScratch{})
		name := fmt.Sprintf("c%d-h%d-o%d-k%d-s%d", l.c, l.h, l.o, l.k, l.stride)
		flops := float64(2 * g.n * g.outSiz * g.ckk)
		b.Run(name+"/fwd", func(b *testing.B) {
			c0 := cpuTime()
			for range b.N {
				convForward(&g, ws, x, w, y)
			}
			reportCPU(b, c0)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(name+"/fwd-onednn", func(b *testing.B) {
			c0 := cpuTime()
			for range b.N {
				if err := convForwardDNNL(&g, ws, x, w, y); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, c0)
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(name+"/bwd-onednn", func(b *testing.B) {
			c0 := cpuTime()
			for range b.N {
				if err := convBackwardDNNL(&g, ws, x, w, dy, dx, dw); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, c0)
			b.ReportMetric(2*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(name+"/bwd", func(b *testing.B) {
			c0 := cpuTime()
			for range b.N {
				convBackward(&g, ws, x, w, dy, dx, dw, make([]float32, len(w)))
			}
			reportCPU(b, c0)
			b.ReportMetric(2*flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
