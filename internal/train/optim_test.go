package train

import (
	"math"
	"slices"
	"testing"
)

func TestLearningRate(t *testing.T) {
	const peak, warmup, total = 0.1, 10, 110
	for _, tc := range []struct {
		batch int
		want  float64
	}{
		{0, 0.01}, {4, 0.05}, {9, 0.1}, // linear warm-up to the peak
		{10, 0.1},  // cosine starts at the peak
		{60, 0.05}, // half-way down
		{110, 0},   // and ends at zero
	} {
		if got := learningRate(peak, tc.batch, warmup, total); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("batch %d: %g, want %g", tc.batch, got, tc.want)
		}
	}
	if got := learningRate(peak, 0, 0, 5); got != peak {
		t.Errorf("no warm-up: first rate %g, want the peak", got)
	}
}

// adamRef is AdamW in float64, written from the formulas.
type adamRef struct{ m, v, w []float64 }

func (r *adamRef) step(g []float64, t int, lr, wd float64, decay bool) {
	for i := range r.w {
		if decay {
			r.w[i] -= lr * wd * r.w[i]
		}
		r.m[i] = 0.9*r.m[i] + 0.1*g[i]
		r.v[i] = 0.999*r.v[i] + 0.001*g[i]*g[i]
		mh := r.m[i] / (1 - math.Pow(0.9, float64(t)))
		vh := r.v[i] / (1 - math.Pow(0.999, float64(t)))
		r.w[i] -= lr * mh / (math.Sqrt(vh) + 1e-8)
	}
}

func TestAdamWMatchesFormulas(t *testing.T) {
	o := newAdamW([]int{3, 2})
	w := [][]float32{{0.5, -1, 2}, {0.1, 0.2}}
	refs := []*adamRef{
		{m: make([]float64, 3), v: make([]float64, 3), w: []float64{0.5, -1, 2}},
		{m: make([]float64, 2), v: make([]float64, 2), w: []float64{0.1, 0.2}},
	}
	decay := []bool{true, false}
	steps := []int{0, 0}
	for k := range 6 {
		// Parameter 1 skips every other update, like S4 in update (a).
		idx := []int{0}
		if k%2 == 0 {
			idx = append(idx, 1)
		}
		var ws, gs [][]float32
		var dec []bool
		for _, j := range idx {
			g := make([]float32, len(w[j]))
			for i := range g {
				g[i] = float32(math.Sin(float64(10*k+3*j+i))) * 4
			}
			steps[j]++
			g64 := make([]float64, len(g))
			for i, x := range g {
				g64[i] = float64(x) * 0.5 // clipping scale
			}
			refs[j].step(g64, steps[j], 0.01, 0.1, decay[j])
			ws, gs, dec = append(ws, w[j]), append(gs, g), append(dec, decay[j])
		}
		o.step(idx, ws, gs, dec, 0.01, 0.1, 0.5)
		for _, g := range gs {
			if slices.ContainsFunc(g, func(x float32) bool { return x != 0 }) {
				t.Fatal("step did not zero the gradients")
			}
		}
	}
	for j := range w {
		for i := range w[j] {
			if d := math.Abs(float64(w[j][i]) - refs[j].w[i]); d > 1e-6 {
				t.Errorf("param %d[%d]: %v, reference %v", j, i, w[j][i], refs[j].w[i])
			}
		}
	}
	if o.t[0] != 6 || o.t[1] != 3 {
		t.Errorf("update counts %v, want [6 3]", o.t)
	}
}

func TestGradNorm(t *testing.T) {
	if got := gradNorm([][]float32{{3}, {0, 4}}); got != 5 {
		t.Errorf("norm %g, want 5", got)
	}
}

// The optimizer step allocates nothing.
func TestAdamWDoesNotAllocate(t *testing.T) {
	o := newAdamW([]int{1000, 10})
	w := [][]float32{make([]float32, 1000), make([]float32, 10)}
	g := [][]float32{make([]float32, 1000), make([]float32, 10)}
	idx, decay := []int{0, 1}, []bool{true, false}
	if n := testing.AllocsPerRun(10, func() { o.step(idx, w, g, decay, 1e-3, 0.05, 1) }); n != 0 {
		t.Errorf("%v allocations per step", n)
	}
}
