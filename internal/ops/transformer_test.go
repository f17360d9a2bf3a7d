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
			return Linear(n[0], n[1], b, noInputGrad, nil)
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
				return WindowAttention(in[0], in[1], in[2], in[3], side, win, shift, heads, nil)
			},
		}
	}
	return []opCase{
		linear("linear-2d", tensor.Shape{5, 4}, 3, true, false),
		linear("linear-3d", tensor.Shape{2, 3, 4}, 6, true, false),
		linear("linear-nobias", tensor.Shape{2, 3, 4}, 5, false, false),
		linear("linear-noInputGrad", tensor.Shape{2, 3, 4}, 5, true, true),
		linear("linear-parallel", tensor.Shape{4, 32, 32}, 40, true, false), // dW by column blocks
		linear("linear-slots", tensor.Shape{2, 1100, 8}, 4, true, false),    // dW over row slots
		{
			name:   "layernorm",
			shapes: []tensor.Shape{{2, 3, 5}, {5}, {5}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return LayerNorm(in[0], in[1], in[2], nil) },
		},
		{
			name:   "layernorm-parallel",
			shapes: []tensor.Shape{{2, 1100, 16}, {16}, {16}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return LayerNorm(in[0], in[1], in[2], nil) },
		},
		{
			name:   "gelu",
			shapes: []tensor.Shape{{3, 7}},
			init: func(_ int, v []float64) {
				for j := range v {
					v[j] = -4 + 8*float64(j)/float64(len(v)-1)
				}
			},
			build: func(in []*gorgonia.Node) (*gorgonia.Node, error) { return GELU(in[0], nil) },
		},
		{
			name:   "gelu-parallel",
			shapes: []tensor.Shape{{5, 4000}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return GELU(in[0], nil) },
		},
		{
			name:   "add",
			shapes: []tensor.Shape{{2, 3, 4}, {2, 3, 4}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return Add(in[0], in[1], nil) },
		},
		{
			name:   "mean-tokens",
			shapes: []tensor.Shape{{2, 5, 3}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return MeanTokens(in[0], nil) },
		},
		{
			name:   "patches",
			shapes: []tensor.Shape{{2, 3, 4, 4}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return Patches(in[0], 2, nil) },
		},
		{
			name:   "patch-merge",
			shapes: []tensor.Shape{{2, 16, 3}},
			build:  func(in []*gorgonia.Node) (*gorgonia.Node, error) { return PatchMerge(in[0], 4, nil) },
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
		build: func(in []*gorgonia.Node) (*gorgonia.Node, error) { return Patches(in[0], 2, nil) }}, tensor.Float64)
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
		build: func(in []*gorgonia.Node) (*gorgonia.Node, error) { return PatchMerge(in[0], 4, nil) }}, tensor.Float64)
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
	for _, name := range []string{"linear-parallel", "linear-slots", "layernorm-parallel", "window-attention-shifted"} {
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

func TestExpNeg32(t *testing.T) {
	worst := 0.0
	for x := -87.0; x <= 0; x += 0.001 {
		got, want := float64(expNeg32(float32(x))), math.Exp(float64(float32(x)))
		worst = max(worst, math.Abs(got-want)/want)
	}
	if worst > 3e-7 {
		t.Fatalf("expNeg32: max relative error %.3g", worst)
	}
	if v := expNeg32(-1000); v < 0 || v > 2e-38 {
		t.Fatalf("expNeg32(-1000) = %g", v)
	}
}

// TestGELU32 checks the float32 GELU and its derivative against float64.
func TestGELU32(t *testing.T) {
	var x, ones []float32
	for v := -10.0; v <= 10; v += 0.001 {
		x = append(x, float32(v))
		ones = append(ones, 1)
	}
	y, d := make([]float32, len(x)), make([]float32, len(x))
	gelu32(x, nil, y, false)
	gelu32(x, ones, d, true)
	for i, v := range x {
		f := float64(v)
		phi := 0.5 * (1 + math.Erf(f/math.Sqrt2))
		wantY, wantD := f*phi, phi+f*math.Exp(-0.5*f*f)/math.Sqrt(2*math.Pi)
		if math.Abs(float64(y[i])-wantY) > 1e-6*max(1, math.Abs(wantY)) || math.Abs(float64(d[i])-wantD) > 1e-6 {
			t.Fatalf("x = %g: gelu %g (want %g), derivative %g (want %g)", f, y[i], wantY, d[i], wantD)
		}
	}
}

// blockCase is a swin-like block of the ops — LayerNorm, q/k/v linear
// layers, shifted window attention, projection, residual, GELU MLP, patch
// merging, mean over tokens — on n images of 4×4 tokens of 8 channels,
// with its activation gradients in sh (nil: owned by the ops).
func blockCase(name string, n int, sh *Shared) opCase {
	s := tensor.Shape{n, 16, 8}
	return opCase{
		name: name,
		// x, LN γ, β, Wq, Wk, Wv, Wp, W1, W2, table
		shapes: []tensor.Shape{s, {8}, {8}, {8, 8}, {8, 8}, {8, 8}, {8, 8}, {8, 16}, {16, 8}, {9, 2}},
		build: func(in []*gorgonia.Node) (*gorgonia.Node, error) {
			do := func(n *gorgonia.Node, err error) *gorgonia.Node {
				if err != nil {
					panic(err)
				}
				return n
			}
			x := in[0]
			h := do(LayerNorm(x, in[1], in[2], sh))
			q, k, v := do(Linear(h, in[3], nil, false, sh)), do(Linear(h, in[4], nil, false, sh)), do(Linear(h, in[5], nil, false, sh))
			a := do(WindowAttention(q, k, v, in[9], 4, 2, 1, 2, sh))
			x = do(Add(x, do(Linear(a, in[6], nil, false, sh)), sh))
			m := do(Linear(do(GELU(do(Linear(x, in[7], nil, false, sh)), sh)), in[8], nil, false, sh))
			x = do(Add(x, m, sh))
			return MeanTokens(do(PatchMerge(x, 4, sh)), sh)
		},
	}
}

func TestBlockGradients(t *testing.T) {
	checkGradients(t, blockCase("block", 2, nil))
}

// TestArenaSharedGraphs runs two graphs whose activation gradients share
// one Arena, alternately (the second larger, so slots grow under the
// first), and checks every gradient against graphs that own their buffers.
func TestArenaSharedGraphs(t *testing.T) {
	arena := NewArena()
	a := newHarness(t, blockCase("arena-a", 2, arena.ForGraph()), tensor.Float32)
	b := newHarness(t, blockCase("arena-b", 3, arena.ForGraph()), tensor.Float32)
	ra := newHarness(t, blockCase("arena-a", 2, nil), tensor.Float32)
	rb := newHarness(t, blockCase("arena-b", 3, nil), tensor.Float32)
	ra.run(t)
	rb.run(t)
	for round := range 3 {
		for _, p := range []struct{ h, ref *harness }{{a, ra}, {b, rb}} {
			p.h.run(t)
			for k := range p.h.grads {
				got, want := toF64(p.h.grads[k]), toF64(p.ref.grads[k])
				for j := range want {
					if got[j] != want[j] {
						t.Fatalf("round %d, %s: grad %d [%d] = %v, unshared %v", round, p.h.c.name, k, j, got[j], want[j])
					}
				}
			}
		}
	}
	if len(arena.f32) == 0 {
		t.Fatal("nothing was allocated in the arena")
	}
}
