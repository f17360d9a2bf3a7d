package ops

import (
	"math"
	"testing"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// transformerCases are the swin's ops: small shapes, and shapes large
// enough that the kernels split rows over workers and sum parameter
// gradients over several fixed slots.
func transformerCases() []opCase {
	linear := func(name string, x tensor.Shape, out int, bias, noInputGrad bool) opCase {
		in := x[len(x)-1]
		c := opCase{name: name, shapes: []tensor.Shape{x, {in, out}}}
		if bias {
			c.shapes = append(c.shapes, tensor.Shape{out})
		}
		c.build = func(n []*gorgonia.Node) (*gorgonia.Node, error) {
			var b *gorgonia.Node
			if bias {
				b = n[2]
			}
			return Linear(n[0], n[1], b, noInputGrad)
		}
		if noInputGrad {
			c.wrt = []int{1, 2}
			if !bias {
				c.wrt = []int{1}
			}
		}
		return c
	}
	attention := func(name string, n, side, c, win, shift, heads int) opCase {
		s := tensor.Shape{n, side * side, c}
		r := 2*win - 1
		return opCase{
			name:   name,
			shapes: []tensor.Shape{s, s, s, {r * r, heads}},
			init: func(i int, v []float64) {
				rng := caseRNG(name, uint64(10+i))
				for j := range v {
					v[j] = 2 * (2*rng.Float64() - 1) // logits spread enough to matter
				}
			},
			build: func(in []*gorgonia.Node) (*gorgonia.Node, error) {
				return WindowAttention(in[0], in[1], in[2], in[3], side, win, shift, heads)
			},
		}
	}
	return []opCase{
		linear("linear-2d", tensor.Shape{5, 4}, 3, true, false),
		linear("linear-3d", tensor.Shape{2, 3, 4}, 6, true, false),
		linear("linear-nobias", tensor.Shape{2, 3, 4}, 5, false, false),
		linear("linear-noInputGrad", tensor.Shape{2, 3, 4}, 5, true, true),
		linear("linear-parallel", tensor.Shape{4, 32, 32}, 40, true, false),
		{
			name:   "layernorm",
			shapes: []tensor.Shape{{2, 3, 5}, {5}, {5}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return LayerNorm(in[0], in[1], in[2]) },
		},
		{
			name:   "layernorm-parallel",
			shapes: []tensor.Shape{{2, 1100, 16}, {16}, {16}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return LayerNorm(in[0], in[1], in[2]) },
		},
		{
			name:   "gelu",
			shapes: []tensor.Shape{{3, 7}},
			init: func(_ int, v []float64) {
				for j := range v {
					v[j] = -4 + 8*float64(j)/float64(len(v)-1)
				}
			},
			build: func(in []*gorgonia.Node) (*gorgonia.Node, error) { return GELU(in[0]) },
		},
		{
			name:   "gelu-parallel",
			shapes: []tensor.Shape{{5, 4000}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return GELU(in[0]) },
		},
		{
			name:   "add",
			shapes: []tensor.Shape{{2, 3, 4}, {2, 3, 4}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return Add(in[0], in[1]) },
		},
		{
			name:   "mean-tokens",
			shapes: []tensor.Shape{{2, 5, 3}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return MeanTokens(in[0]) },
		},
		{
			name:   "patches",
			shapes: []tensor.Shape{{2, 3, 4, 4}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return Patches(in[0], 2) },
		},
		{
			name:   "patch-merge",
			shapes: []tensor.Shape{{2, 16, 3}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return PatchMerge(in[0], 4) },
		},
		attention("window-attention", 2, 4, 8, 2, 0, 2),
		attention("window-attention-shifted", 2, 4, 8, 2, 1, 2),
		attention("window-attention-shifted-w4", 1, 8, 4, 4, 2, 1),
		attention("window-attention-one-window", 3, 2, 6, 2, 0, 3),
	}
}

func TestTransformerGradients(t *testing.T) {
	for _, c := range transformerCases() {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, c) })
	}
}

func TestTransformerFloat32MatchesFloat64(t *testing.T) {
	for _, c := range transformerCases() {
		t.Run(c.name, func(t *testing.T) { checkFloat32(t, c) })
	}
}

// TestPatchMaps checks the index maps against the layouts they stand for.
func TestPatchMaps(t *testing.T) {
	h := newHarness(t, opCase{name: "patches", shapes: []tensor.Shape{{2, 3, 4, 4}},
		build: func(in []*gorgonia.Node) (*gorgonia.Node, error) { return Patches(in[0], 2) }}, tensor.Float64)
	h.run(t)
	x, got := h.vals[0], h.out.Data().([]float64)
	for n := range 2 {
		for gi := range 2 {
			for gj := range 2 {
				for c := range 3 {
					for pi := range 2 {
						for pj := range 2 {
							want := x[((n*3+c)*4+gi*2+pi)*4+gj*2+pj]
							if v := got[((n*4+gi*2+gj)*3+c)*4+pi*2+pj]; v != want {
								t.Fatalf("patch (%d,%d,%d) c%d (%d,%d): %v, want %v", n, gi, gj, c, pi, pj, v, want)
							}
						}
					}
				}
			}
		}
	}
	h = newHarness(t, opCase{name: "merge", shapes: []tensor.Shape{{1, 16, 2}},
		build: func(in []*gorgonia.Node) (*gorgonia.Node, error) { return PatchMerge(in[0], 4) }}, tensor.Float64)
	h.run(t)
	x, got = h.vals[0], h.out.Data().([]float64)
	for i := range 2 {
		for j := range 2 {
			for q, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				for c := range 2 {
					want := x[((2*i+d[0])*4+2*j+d[1])*2+c]
					if v := got[(i*2+j)*8+q*2+c]; v != want {
						t.Fatalf("merged token (%d,%d) part %d c%d: %v, want %v", i, j, q, c, v, want)
					}
				}
			}
		}
	}
}

// TestTransformerGradDeterministic checks that the parameter gradients of
// the linear layer, LayerNorm and window attention are bit-for-bit the
// same for 1, 2 and 3 workers: exact resumption relies on it.
func TestTransformerGradDeterministic(t *testing.T) {
	for _, name := range []string{"linear-parallel", "layernorm-parallel", "window-attention-shifted"} {
		var c opCase
		for _, k := range transformerCases() {
			if k.name == name {
				c = k
			}
		}
		var first [][]float64
		for _, workers := range []int{1, 2, 3} {
			saved := maxWorkers
			maxWorkers = workers
			h := newHarness(t, c, tensor.Float32)
			h.run(t)
			maxWorkers = saved
			for k, g := range h.grads {
				v := toF64(g)
				if first == nil || len(first) <= k {
					first = append(first, v)
					continue
				}
				for j := range v {
					if v[j] != first[k][j] {
						t.Fatalf("%s: %d workers: grad %d [%d] = %v, 1 worker %v", name, workers, k, j, v[j], first[k][j])
					}
				}
			}
		}
	}
}

func TestFastPhi(t *testing.T) {
	for x := -8.0; x <= 8; x += 0.01 {
		e := math.Exp(-0.5 * x * x)
		if d := math.Abs(phi(x, e, true) - phi(x, e, false)); d > 1.5e-7 {
			t.Fatalf("Φ(%g): fast %g, exact %g", x, phi(x, e, true), phi(x, e, false))
		}
	}
}
