package train

import (
	"math"
)

// learningRate is the rate for the batch with 0-based index batch (over
// the whole run) of total: linear warm-up over the first warmup batches,
// then cosine decay from the peak to zero at the end of the run. All the
// updates of one batch share its rate.
func learningRate(peak float64, batch, warmup, total int) float64 {
	if batch < warmup {
		return peak * float64(batch+1) / float64(warmup)
	}
	progress := float64(batch-warmup) / float64(max(1, total-warmup))
	return peak * 0.5 * (1 + math.Cos(math.Pi*min(1, progress)))
}

// adamW is AdamW (Loshchilov & Hutter) with PyTorch's semantics:
//
//	w ← w − lr·wd·w                       (decoupled decay, weights only)
//	m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
//	w ← w − lr·(m/(1−β1ᵗ)) / (√(v/(1−β2ᵗ)) + ε)
//
// t counts the updates of each parameter separately: a parameter that an
// update does not reach (S4 in two-step's update (a)) is skipped entirely —
// no decay, no moment decay — as PyTorch skips parameters without a
// gradient. The moments of all parameters live in one allocation each, in
// the model's parameter order, which never changes.
type adamW struct {
	beta1, beta2, eps float64
	m, v              []float32
	off               []int   // parameter j's moments are m[off[j]:off[j+1]]
	t                 []int64 // updates of parameter j so far
}

func newAdamW(sizes []int) *adamW {
	o := &adamW{beta1: 0.9, beta2: 0.999, eps: 1e-8, off: make([]int, len(sizes)+1), t: make([]int64, len(sizes))}
	for j, n := range sizes {
		o.off[j+1] = o.off[j] + n
	}
	o.m = make([]float32, o.off[len(sizes)])
	o.v = make([]float32, o.off[len(sizes)])
	return o
}

// gradNorm is the global L2 norm of the gradients.
func gradNorm(grads [][]float32) float64 {
	var s float64
	for _, g := range grads {
		for _, x := range g {
			s += float64(x) * float64(x)
		}
	}
	return math.Sqrt(s)
}

// step applies one update to the parameters idx (values w, gradients g,
// decay flags), with gradients scaled by gscale (clipping), in one pass per
// parameter that also zeroes the gradient for the next backward pass.
func (o *adamW) step(idx []int, w, g [][]float32, decay []bool, lr, wd, gscale float64) {
	b1, b2 := float32(o.beta1), float32(o.beta2)
	ob1, ob2 := 1-b1, 1-b2
	eps := float32(o.eps)
	gs := float32(gscale)
	for k, j := range idx {
		o.t[j]++
		t := float64(o.t[j])
		// lr/(1−β1ᵗ) folds the first bias correction into the step size;
		// the second is applied under the root.
		stepSize := float32(lr / (1 - math.Pow(o.beta1, t)))
		rbc2 := float32(1 / (1 - math.Pow(o.beta2, t)))
		keep := float32(1)
		if decay[k] {
			keep = float32(1 - lr*wd)
		}
		wj, gj := w[k], g[k]
		m, v := o.m[o.off[j]:o.off[j+1]], o.v[o.off[j]:o.off[j+1]]
		_ = m[len(wj)-1]
		_ = v[len(wj)-1]
		_ = gj[len(wj)-1]
		for i := range wj {
			gi := gj[i] * gs
			gj[i] = 0
			mi := b1*m[i] + ob1*gi
			vi := b2*v[i] + ob2*gi*gi
			m[i], v[i] = mi, vi
			wj[i] = wj[i]*keep - stepSize*mi/(float32(math.Sqrt(float64(vi*rbc2)))+eps)
		}
	}
}
