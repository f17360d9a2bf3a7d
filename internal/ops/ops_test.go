package ops

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func convCase(name string, n, c, h, w, o, k, stride, pad int, noInputGrad bool) opCase {
	oc := opCase{
		name:   name,
		shapes: []tensor.Shape{{n, c, h, w}, {o, c, k, k}},
		build: func(in []*gorgonia.Node) (*gorgonia.Node, error) {
			return Conv2d(in[0], in[1], stride, pad, noInputGrad)
		},
	}
	if noInputGrad {
		oc.wrt = []int{1}
	}
	return oc
}

// bnStatsInit gives the inputs of a batch-norm case: x with a per-channel
// offset and spread, γ away from zero, β anything.
func bnInit(c int) func(i int, v []float64) {
	return func(i int, v []float64) {
		rng := caseRNG("bn-init", uint64(i))
		for j := range v {
			switch i {
			case 0:
				v[j] = 3*rng.Float64() - 1
			case 1:
				v[j] = 0.5 + rng.Float64()
			default:
				v[j] = rng.Float64() - 0.5
			}
		}
	}
}

// bnCase builds BatchNorm or BatchNormInference on (n,c,h,w); inference
// cases use running statistics that are not the identity.
func bnCase(name string, n, c, h, w int, relu, infer bool) opCase {
	return opCase{
		name:   name,
		shapes: []tensor.Shape{{n, c, h, w}, {c}, {c}},
		init:   bnInit(c),
		build: func(in []*gorgonia.Node) (*gorgonia.Node, error) {
			st := NewBNState(c)
			if infer {
				for i := range c {
					st.Mean[i] = 0.3 * float64(i)
					st.Var[i] = 0.5 + 0.25*float64(i)
				}
				return BatchNormInference(in[0], in[1], in[2], st, relu)
			}
			return BatchNorm(in[0], in[1], in[2], st, relu)
		},
	}
}

func allCases() []opCase {
	return []opCase{
		convCase("conv3x3-s1-p1", 2, 3, 6, 5, 4, 3, 1, 1, false),
		convCase("conv3x3-s2-p1", 2, 3, 7, 6, 5, 3, 2, 1, false),
		convCase("conv1x1-s2-p0", 2, 4, 6, 6, 3, 1, 2, 0, false),
		convCase("conv1x1-s1-p0", 3, 2, 4, 4, 5, 1, 1, 0, false),
		convCase("conv3x3-s1-p0", 1, 2, 5, 5, 2, 3, 1, 0, false),
		convCase("conv3x3-stem-noInputGrad", 2, 3, 6, 6, 4, 3, 1, 1, true),
		// Small maps: several images share one GEMM (convGeom.group > 1),
		// including a last, partial group.
		convCase("conv3x3-s1-p1-grouped", 8, 3, 4, 4, 4, 3, 1, 1, false),
		convCase("conv3x3-s2-p1-grouped-partial", 7, 2, 5, 5, 3, 3, 2, 1, false),
		convCase("conv1x1-s2-p0-grouped", 6, 3, 4, 4, 2, 1, 2, 0, false),
		convCase("conv3x3-grouped-noInputGrad", 8, 2, 3, 3, 3, 3, 1, 1, true),
		// Large maps, ≥ 16 channels: shifted GEMMs forward and for dx.
		convCase("conv3x3-shift", 2, 16, 16, 16, 16, 3, 1, 1, false),
		convCase("conv3x3-shift-p0", 2, 16, 18, 18, 16, 3, 1, 0, false),
		bnCase("batchnorm", 3, 4, 3, 2, false, false),
		bnCase("batchnorm-relu", 3, 4, 3, 2, true, false),
		bnCase("batchnorm-1x1", 5, 3, 1, 1, false, false),
		bnCase("batchnorm-inference", 2, 3, 2, 3, false, true),
		bnCase("batchnorm-inference-relu", 2, 3, 2, 3, true, true),
		// Maps of 25 values: the vec kernels' 16- and 8-wide blocks, and a tail in Go.
		bnCase("batchnorm-5x5", 2, 3, 5, 5, false, false),
		bnCase("batchnorm-relu-5x5", 2, 3, 5, 5, true, false),
		bnCase("batchnorm-inference-relu-5x5", 2, 3, 5, 5, true, true),
		{
			name:   "add-relu",
			shapes: []tensor.Shape{{2, 3, 4, 4}, {2, 3, 4, 4}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return AddReLU(in[0], in[1]) },
		},
		{
			name:   "add-relu-same-input",
			shapes: []tensor.Shape{{2, 5}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return AddReLU(in[0], in[0]) },
		},
		{
			name:   "global-avg-pool",
			shapes: []tensor.Shape{{2, 3, 4, 5}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return GlobalAvgPool(in[0]) },
		},
	}
}

func TestConvGroups(t *testing.T) {
	cases := []struct{ n, ohw, want int }{
		{32, 1024, 1}, {32, 256, 1}, {32, 64, 1}, {32, 16, 4}, {32, 9, 8}, {8, 4, 4}, {7, 9, 2}, {1, 4, 1},
	}
	for _, c := range cases {
		if got := chooseGroup(c.n, c.ohw); got != c.want {
			t.Errorf("chooseGroup(%d, %d) = %d, want %d", c.n, c.ohw, got, c.want)
		}
	}
	for _, c := range allCases() {
		if c.name == "conv3x3-shift" || c.name == "conv3x3-shift-p0" {
			g := newConvGeom(c.shapes[0], c.shapes[1], 1, 1)
			if c.name == "conv3x3-shift-p0" {
				g = newConvGeom(c.shapes[0], c.shapes[1], 1, 0)
			}
			if !g.shift || g.tr == nil || !g.tr.shift {
				t.Errorf("%s: shift %v, transposed %+v: want shifted GEMMs both ways", c.name, g.shift, g.tr)
			}
		}
		if c.name == "conv3x3-s2-p1-grouped-partial" {
			g := newConvGeom(c.shapes[0], c.shapes[1], 2, 1)
			if g.group != 2 || g.n%g.group == 0 {
				t.Errorf("%s: group %d of %d images, want a partial last group of 2", c.name, g.group, g.n)
			}
		}
	}
}

func TestGradients(t *testing.T) {
	for _, c := range allCases() {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, c) })
	}
}

func TestFloat32MatchesFloat64(t *testing.T) {
	for _, c := range allCases() {
		t.Run(c.name, func(t *testing.T) { checkFloat32(t, c) })
	}
}

// stopGradCase is Σ R·(x + stop(x)²): the analytic gradient must be R,
// while finite differences see 1 + 2x, so it is checked on its own.
var stopGradCase = opCase{
	name:   "stop-gradient",
	shapes: []tensor.Shape{{3, 4}},
	build: func(in []*gorgonia.Node) (*gorgonia.Node, error) {
		s, err := StopGradient(in[0])
		if err != nil {
			return nil, err
		}
		sq, err := gorgonia.Square(s)
		if err != nil {
			return nil, err
		}
		return gorgonia.Add(in[0], sq)
	},
}

// TestStopGradient checks that no gradient flows through StopGradient and
// that its value is a copy of the input.
func TestStopGradient(t *testing.T) {
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		h := newHarness(t, stopGradCase, dt)
		h.run(t)
		got := toF64(h.grads[0])
		rr := caseRNG(stopGradCase.name, 2)
		for j := range got {
			if want := float64(float32(2*rr.Float64() - 1)); math.Abs(got[j]-want) > 1e-7 {
				t.Fatalf("%v: grad[%d] = %v, want R[%d] = %v", dt, j, got[j], j, want)
			}
		}
	}

	g := gorgonia.NewGraph()
	x := gorgonia.NewMatrix(g, tensor.Float64, gorgonia.WithShape(2, 3), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{1, -2, 3, -4, 5, -6}))))
	s, err := StopGradient(x)
	if err != nil {
		t.Fatal(err)
	}
	sq, err := gorgonia.Square(s)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := gorgonia.Sum(sq)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gorgonia.Grad(loss, x); err == nil {
		t.Fatal("Grad through StopGradient alone succeeded, want an error (no path to x)")
	}
	var sv gorgonia.Value
	gorgonia.Read(s, &sv)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := sv.Data().([]float64)
	want := x.Value().Data().([]float64)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if &got[0] == &want[0] {
		t.Fatal("StopGradient returned its input's storage, want a copy")
	}
}

// TestBatchNormRunningStats checks the forward pass against a direct
// computation and the running statistics' update.
func TestBatchNormRunningStats(t *testing.T) {
	const n, c, h, w = 4, 2, 3, 3
	g := gorgonia.NewGraph()
	rng := caseRNG("bn-stats", 1)
	xv := make([]float64, n*c*h*w)
	for i := range xv {
		xv[i] = 4*rng.Float64() + 1
	}
	x := gorgonia.NewTensor(g, tensor.Float64, 4, gorgonia.WithShape(n, c, h, w), gorgonia.WithName("x"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(n, c, h, w), tensor.WithBacking(xv))))
	gamma := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(c), gorgonia.WithName("gamma"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(c), tensor.WithBacking([]float64{2, 0.5}))))
	beta := gorgonia.NewVector(g, tensor.Float64, gorgonia.WithShape(c), gorgonia.WithName("beta"),
		gorgonia.WithValue(tensor.New(tensor.WithShape(c), tensor.WithBacking([]float64{-1, 1}))))
	st := NewBNState(c)
	y, err := BatchNorm(x, gamma, beta, st, false)
	if err != nil {
		t.Fatal(err)
	}
	var yv gorgonia.Value
	gorgonia.Read(y, &yv)
	m := gorgonia.NewTapeMachine(g)
	defer m.Close()
	const runs = 3
	for range runs {
		m.Reset()
		if err := m.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	ys := yv.Data().([]float64)
	gv, bv := []float64{2, 0.5}, []float64{-1, 1}
	for ch := range c {
		var vals []float64
		for i := range n {
			off := (i*c + ch) * h * w
			vals = append(vals, xv[off:off+h*w]...)
		}
		mean, ss := 0.0, 0.0
		for _, v := range vals {
			mean += v
		}
		mean /= float64(len(vals))
		for _, v := range vals {
			ss += (v - mean) * (v - mean)
		}
		biased, unbiased := ss/float64(len(vals)), ss/float64(len(vals)-1)
		for i := range n {
			for j := range h * w {
				k := (i*c+ch)*h*w + j
				want := gv[ch]*(xv[k]-mean)/math.Sqrt(biased+st.Eps) + bv[ch]
				if math.Abs(ys[k]-want) > 1e-12 {
					t.Fatalf("y[%d] = %v, want %v", k, ys[k], want)
				}
			}
		}
		// After r updates from (0, 1) with momentum m: 1−(1−m)^r of the way.
		f := 1 - math.Pow(1-st.Momentum, runs)
		if want := f * mean; math.Abs(st.Mean[ch]-want) > 1e-12 {
			t.Errorf("running mean[%d] = %v, want %v", ch, st.Mean[ch], want)
		}
		if want := (1 - f) + f*unbiased; math.Abs(st.Var[ch]-want) > 1e-12 {
			t.Errorf("running var[%d] = %v, want %v", ch, st.Var[ch], want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	g := gorgonia.NewGraph()
	x4 := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(2, 3, 4, 4), gorgonia.WithName("x4"))
	x2 := gorgonia.NewMatrix(g, tensor.Float32, gorgonia.WithShape(2, 3), gorgonia.WithName("x2"))
	w := gorgonia.NewTensor(g, tensor.Float32, 4, gorgonia.WithShape(5, 2, 3, 3), gorgonia.WithName("w"))
	c3 := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(3), gorgonia.WithName("c3"))
	c2 := gorgonia.NewVector(g, tensor.Float32, gorgonia.WithShape(2), gorgonia.WithName("c2"))
	cases := []struct {
		name string
		f    func() error
	}{
		{"conv channel mismatch", func() error { _, err := Conv2d(x4, w, 1, 1, false); return err }},
		{"conv 2-D input", func() error { _, err := Conv2d(x2, w, 1, 1, false); return err }},
		{"bn gamma size", func() error { _, err := BatchNorm(x4, c2, c3, NewBNState(3), false); return err }},
		{"bn state size", func() error { _, err := BatchNorm(x4, c3, c3, NewBNState(2), false); return err }},
		{"bn nil state", func() error { _, err := BatchNormInference(x4, c3, c3, nil, false); return err }},
		{"add-relu shapes", func() error { _, err := AddReLU(x4, x2); return err }},
		{"pool 2-D", func() error { _, err := GlobalAvgPool(x2); return err }},
	}
	for _, c := range cases {
		if err := c.f(); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestMaskPositive(t *testing.T) {
	negZero := math.Copysign(0, -1)
	y := []float64{1, 0, negZero, -1, 1e-300, -1e-300, math.Inf(1), math.Inf(-1), 5e-324}
	v := []float64{2, 3, 4, 5, 6, 7, 8, 9, 10}
	want := []float64{2, 0, 0, 0, 6, 0, 8, 0, 10}
	out := make([]float64, len(y))
	maskPositive(y, v, out)
	y32, v32, out32 := make([]float32, len(y)), make([]float32, len(y)), make([]float32, len(y))
	for i := range y {
		y32[i], v32[i] = float32(y[i]), float32(v[i])
	}
	y32[4], y32[5], y32[8] = 1e-38, -1e-38, 1e-45 // representable in float32
	maskPositive(y32, v32, out32)
	for i := range want {
		if out[i] != want[i] || float64(out32[i]) != want[i] {
			t.Errorf("y = %v: got %v (float64), %v (float32), want %v", y[i], out[i], out32[i], want[i])
		}
	}
}

func TestReLU32(t *testing.T) {
	for _, c := range []struct{ in, want float32 }{
		{1.5, 1.5}, {-1.5, 0}, {0, 0}, {float32(math.Copysign(0, -1)), 0}, {1e-45, 1e-45}, {-1e-45, 0},
		{float32(math.Inf(1)), float32(math.Inf(1))}, {float32(math.Inf(-1)), 0},
	} {
		got := relu32(c.in)
		if got != c.want || math.Signbit(float64(got)) {
			t.Errorf("relu32(%v) = %v, want +%v", c.in, got, c.want)
		}
	}
}

// TestConvGradDeterministic checks dw (and dx) are bit-for-bit the same
// whatever the number of workers and however they share the images: exact
// resumption from a checkpoint relies on it.
func TestConvGradDeterministic(t *testing.T) {
	for _, l := range []struct{ n, c, h, o, k, stride, pad int }{
		{8, 16, 16, 16, 3, 1, 1}, // shifted GEMMs
		{8, 8, 8, 8, 3, 1, 1},    // im2col, dx as a transposed convolution
		{7, 4, 6, 6, 3, 2, 1},    // im2col + col2im, groups
		{6, 4, 5, 3, 1, 1, 0},    // direct 1×1
	} {
		g := newConvGeom(tensor.Shape{l.n, l.c, l.h, l.h}, tensor.Shape{l.o, l.c, l.k, l.k}, l.stride, l.pad)
		rng := caseRNG("determinism", uint64(l.c))
		fill := func(n int) []float32 {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
			return v
		}
		x, w, dy := fill(g.n*g.inSize), fill(g.o*g.ckk), fill(g.n*g.outSiz)
		run := func(workers int) (dx, dw []float32) {
			saved := maxWorkers
			maxWorkers = workers
			defer func() { maxWorkers = saved }()
			dx, dw = make([]float32, len(x)), make([]float32, len(w))
			convBackward(&g, workspaces[float32](&convScratch{}), x, w, dy, dx, dw, make([]float32, len(w)))
			return dx, dw
		}
		dx1, dw1 := run(1)
		for _, workers := range []int{2, 3, 2} {
			dx, dw := run(workers)
			for i := range dw {
				if dw[i] != dw1[i] {
					t.Fatalf("%+v: %d workers: dw[%d] = %v, 1 worker: %v", l, workers, i, dw[i], dw1[i])
				}
			}
			for i := range dx {
				if dx[i] != dx1[i] {
					t.Fatalf("%+v: %d workers: dx[%d] = %v, 1 worker: %v", l, workers, i, dx[i], dx1[i])
				}
			}
		}
	}
}
