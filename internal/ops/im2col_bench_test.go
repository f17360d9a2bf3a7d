package ops

import (
	"fmt"
	"testing"

	"gorgonia.org/tensor"
)

// BenchmarkIm2col times im2col and col2im of one image of each reference
// convolution, in CPU nanoseconds per column-matrix element.
func BenchmarkIm2col(b *testing.B) {
	for _, l := range refConvLayers {
		g := newConvGeom(tensor.Shape{32, l.c, l.h, l.h}, tensor.Shape{l.o, l.c, l.k, l.k}, l.stride, l.pad)
		x := make([]float32, g.inSize)
		col := make([]float32, g.ckk*g.ohw)
		var pad []float32
		name := fmt.Sprintf("c%d-h%d-k%d-s%d", l.c, l.h, l.k, l.stride)
		b.Run(name+"/im2col", func(b *testing.B) {
			c0 := cpuTime()
			for range b.N {
				pad = im2col(&g, x, col, g.ohw, 0, pad)
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/float64(len(col)), "cpu-ns/elem")
		})
		b.Run(name+"/col2im", func(b *testing.B) {
			c0 := cpuTime()
			for range b.N {
				pad = col2im(&g, col, g.ohw, 0, x, pad)
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N)/float64(len(col)), "cpu-ns/elem")
		})
	}
}
