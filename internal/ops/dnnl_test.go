package ops

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// dnnlCases cover the kernel choices oneDNN makes and the batch splits the
// slots make: the reference layers (at batch 32, and at 5 images, which
// leaves a slot empty), odd sizes, strides that drop pixels, no padding,
// 1×1, 5×5, one image and one channel.
var dnnlCases = func() []struct{ n, c, h, w, o, k, stride, pad int } {
	cs := []struct{ n, c, h, w, o, k, stride, pad int }{
		{5, 16, 32, 32, 16, 3, 1, 1},
		{3, 3, 9, 7, 4, 3, 2, 1},
		{6, 4, 5, 5, 3, 1, 1, 0},
		{2, 8, 11, 11, 8, 5, 2, 2},
		{1, 1, 6, 6, 2, 3, 1, 0},
		{7, 32, 16, 16, 32, 1, 2, 0},
	}
	for _, l := range refConvLayers {
		cs = append(cs, struct{ n, c, h, w, o, k, stride, pad int }{32, l.c, l.h, l.h, l.o, l.k, l.stride, l.pad})
	}
	return cs
}()

func fillNormal(name string, salt uint64, n int) ([]float32, []float64) {
	rng := caseRNG(name, salt)
	v32, v64 := make([]float32, n), make([]float64, n)
	for i := range v32 {
		v32[i] = float32(rng.NormFloat64())
		v64[i] = float64(v32[i])
	}
	return v32, v64
}

// closeToRef fails when got differs from the float64 reference by more
// than float32 rounding of a long sum explains: 1e-4 of the element's
// magnitude plus the tensor's root mean square.
func closeToRef(t *testing.T, what string, got []float32, ref []float64) {
	t.Helper()
	var ss float64
	for _, v := range ref {
		ss += v * v
	}
	rms := math.Sqrt(ss / float64(len(ref)))
	for i, r := range ref {
		if d := math.Abs(float64(got[i]) - r); d > 1e-4*(math.Abs(r)+rms) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %v, float64 reference %v (rms %.3g)", what, i, got[i], r, rms)
		}
	}
}

// TestConvDNNLMatchesReference checks oneDNN's float32 forward, dx and dw
// against conv.go's float64 kernels (themselves checked against central
// differences by the gradient checks).
func TestConvDNNLMatchesReference(t *testing.T) {
	for _, l := range dnnlCases {
		name := fmt.Sprintf("n%d-c%d-%dx%d-o%d-k%d-s%d-p%d", l.n, l.c, l.h, l.w, l.o, l.k, l.stride, l.pad)
		t.Run(name, func(t *testing.T) {
			g := newConvGeom(tensor.Shape{l.n, l.c, l.h, l.w}, tensor.Shape{l.o, l.c, l.k, l.k}, l.stride, l.pad)
			x32, x64 := fillNormal(name+"x", 1, g.n*g.inSize)
			w32, w64 := fillNormal(name+"w", 2, g.o*g.ckk)
			dy32, dy64 := fillNormal(name+"dy", 3, g.n*g.outSiz)

			y64 := make([]float64, g.n*g.outSiz)
			dx64, dw64 := make([]float64, len(x64)), make([]float64, len(w64))
			ws64 := workspaces[float64](&convScratch{})
			convForward(&g, ws64, x64, w64, y64)
			convBackward(&g, ws64, x64, w64, dy64, dx64, dw64, make([]float64, len(w64)))

			ws := workspaces[float32](&convScratch{})
			y := make([]float32, len(y64))
			if err := convForwardDNNL(&g, ws, x32, w32, y); err != nil {
				t.Fatal(err)
			}
			closeToRef(t, "y", y, y64)
			dx, dw := make([]float32, len(x32)), make([]float32, len(w32))
			if err := convBackwardDNNL(&g, ws, x32, w32, dy32, dx, dw); err != nil {
				t.Fatal(err)
			}
			closeToRef(t, "dx", dx, dx64)
			closeToRef(t, "dw", dw, dw64)
			// Without dx (the stem): the same dw, dx untouched.
			dw2 := make([]float32, len(w32))
			if err := convBackwardDNNL(&g, ws, x32, w32, dy32, nil, dw2); err != nil {
				t.Fatal(err)
			}
			for i := range dw {
				if dw2[i] != dw[i] {
					t.Fatalf("dw without dx [%d] = %v, with dx %v", i, dw2[i], dw[i])
				}
			}
		})
	}
}

// TestConvDNNLDeterministic checks y, dx and dw are bit-for-bit the same
// whatever the number of workers: exact resumption from a checkpoint and
// results that do not depend on --jobs rely on it.
func TestConvDNNLDeterministic(t *testing.T) {
	for _, l := range dnnlCases[:4] {
		g := newConvGeom(tensor.Shape{l.n, l.c, l.h, l.w}, tensor.Shape{l.o, l.c, l.k, l.k}, l.stride, l.pad)
		x, _ := fillNormal("det-x", uint64(l.c), g.n*g.inSize)
		w, _ := fillNormal("det-w", uint64(l.c), g.o*g.ckk)
		dy, _ := fillNormal("det-dy", uint64(l.c), g.n*g.outSiz)
		run := func(workers int) (y, dx, dw []float32) {
			saved := maxWorkers
			maxWorkers = workers
			defer func() { maxWorkers = saved }()
			ws := workspaces[float32](&convScratch{})
			y, dx, dw = make([]float32, g.n*g.outSiz), make([]float32, len(x)), make([]float32, len(w))
			if err := convForwardDNNL(&g, ws, x, w, y); err != nil {
				t.Fatal(err)
			}
			if err := convBackwardDNNL(&g, ws, x, w, dy, dx, dw); err != nil {
				t.Fatal(err)
			}
			return y, dx, dw
		}
		y1, dx1, dw1 := run(1)
		for _, workers := range []int{2, 3, 4} {
			y, dx, dw := run(workers)
			for _, c := range []struct {
				name      string
				got, want []float32
			}{{"y", y, y1}, {"dx", dx, dx1}, {"dw", dw, dw1}} {
				for i := range c.want {
					if c.got[i] != c.want[i] {
						t.Fatalf("%+v: %d workers: %s[%d] = %v, 1 worker: %v", l, workers, c.name, i, c.got[i], c.want[i])
					}
				}
			}
		}
	}
}

// TestConvDNNLKernels checks oneDNN runs its vector kernels on the
// reference layers, not a reference or GEMM fallback, where the CPU has
// AVX-512 (oneDNN's names end in the instruction set, e.g. "brgconv:avx512_core").
func TestConvDNNLKernels(t *testing.T) {
	for _, l := range refConvLayers {
		g := newConvGeom(tensor.Shape{32, l.c, l.h, l.h}, tensor.Shape{l.o, l.c, l.k, l.k}, l.stride, l.pad)
		impl, err := dnnlImpl(&g, 8)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("c%d-h%d-o%d-k%d-s%d: %v", l.c, l.h, l.o, l.k, l.stride, impl)
		for _, s := range impl {
			if strings.HasPrefix(s, "ref") || strings.Contains(s, "gemm") || s == "?" {
				t.Errorf("c%d-h%d-o%d-k%d-s%d: oneDNN chose %q", l.c, l.h, l.o, l.k, l.stride, s)
			}
		}
	}
}

// TestTranspose32 checks the activations' NCHW <-> NHWC copy against the
// definition, on sizes with and without whole 8×8 blocks.
func TestTranspose32(t *testing.T) {
	for _, c := range []struct{ n, rows, cols int }{{1, 8, 8}, {2, 16, 1024}, {3, 64, 64}, {2, 3, 1024}, {1, 1024, 3}, {2, 13, 21}, {1, 1, 9}, {4, 9, 17}} {
		m := c.rows * c.cols
		src := make([]float32, c.n*m)
		for i := range src {
			src[i] = float32(i)
		}
		dst := make([]float32, len(src))
		transpose32(src, dst, c.n, c.rows, c.cols)
		for k := range c.n {
			for i := range c.rows {
				for j := range c.cols {
					if got, want := dst[k*m+j*c.rows+i], src[k*m+i*c.cols+j]; got != want {
						t.Fatalf("%+v: dst[%d][%d][%d] = %v, want %v", c, k, j, i, got, want)
					}
				}
			}
		}
	}
}
