package train

import (
	"math"

	"github.com/mksmt/workbench/internal/ops"
)

// adamBeta1 is AdamW's β1 outside the one-cycle schedule.
const adamBeta1 = 0.9

// rates are the learning rate and AdamW's β1 for the batch with 0-based
// index batch (over the whole run) of total, by c's lr_schedule. All the
// updates of one batch share them.
func rates(c Config, batch, warmup, total int) (lr, beta1 float64) {
	if c.LRScheduleOrDefault() == "onecycle" {
		return oneCycle(c.LR, batch, total)
	}
	return learningRate(c.LR, batch, warmup, total), adamBeta1
}

// The defaults of PyTorch's OneCycleLR (torch.optim.lr_scheduler).
const (
	oneCyclePctStart       = 0.3
	oneCycleDivFactor      = 25
	oneCycleFinalDivFactor = 1e4
	oneCycleBaseMomentum   = 0.85
	oneCycleMaxMomentum    = 0.95
)

// oneCycle is PyTorch's OneCycleLR with its defaults (two phases, cosine
// annealing, cycle_momentum on, which for Adam cycles β1), stepped once per
// batch: the rate rises from peak/25 to peak over the first 30 % of the
// batches while β1 falls from 0.95 to 0.85, then the rate falls to
// peak/25/1e4 while β1 rises back. Phase ends are PyTorch's: pct_start·total
// − 1 and total − 1; a batch past the first phase's end is in the second.
func oneCycle(peak float64, batch, total int) (lr, beta1 float64) {
	initial := peak / oneCycleDivFactor
	minLR := initial / oneCycleFinalDivFactor
	anneal := func(start, end, pct float64) float64 {
		return end + (start-end)/2*(math.Cos(math.Pi*pct)+1)
	}
	step := float64(batch)
	end1 := oneCyclePctStart*float64(total) - 1
	if step <= end1 {
		pct := step / end1
		return anneal(initial, peak, pct), anneal(oneCycleMaxMomentum, oneCycleBaseMomentum, pct)
	}
	pct := (step - end1) / (float64(total-1) - end1)
	return anneal(peak, minLR, pct), anneal(oneCycleBaseMomentum, oneCycleMaxMomentum, pct)
}

// learningRate is the rate for the batch with 0-based index batch (over
// the whole run) of total: linear warm-up over the first warmup batches,
// then cosine decay from the peak to zero at the end of the run.
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
// gradient (optimizer = "skip-unreached"). With optimizer =
// "pytorch-shared", coast also steps them with a zero gradient, as one
// PyTorch 1.6 AdamW over the whole model does once zero_grad() has left a
// zero gradient on every parameter that ever had one. β1 is a field because
// the one-cycle schedule cycles it (PyTorch sets betas[0]); the bias
// correction uses the current β1, as PyTorch does. The moments of all
// parameters live in one allocation each, in the model's parameter order,
// which never changes.
type adamW struct {
	beta1, beta2, eps float64
	m, v              []float32
	off               []int   // parameter j's moments are m[off[j]:off[j+1]]
	t                 []int64 // updates of parameter j so far

	cur       adamStep // the running step's arguments
	stepRange func(lo, hi int)
}

func newAdamW(sizes []int) *adamW {
	o := &adamW{beta1: adamBeta1, beta2: 0.999, eps: 1e-8, off: make([]int, len(sizes)+1), t: make([]int64, len(sizes))}
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
// parameter that also zeroes the gradient for the next backward pass. The
// parameters are spread over the kernel workers: each element's update is
// the same whoever computes it.
func (o *adamW) step(idx []int, w, g [][]float32, decay []bool, lr, wd, gscale float64) {
	o.cur = adamStep{idx, w, g, decay, lr, wd, gscale}
	if o.stepRange == nil {
		// Made once: a closure per step would allocate.
		o.stepRange = func(lo, hi int) {
			c := &o.cur
			for k := lo; k < hi; k++ {
				o.stepOne(c.idx[k], c.w[k], c.g[k], c.decay[k], c.lr, c.wd, c.gscale)
			}
		}
	}
	ops.ParallelFor(len(idx), o.stepRange)
	o.cur = adamStep{}
}

// adamStep is one step's arguments, for stepRange.
type adamStep struct {
	idx            []int
	w, g           [][]float32
	decay          []bool
	lr, wd, gscale float64
}

// stepOne updates parameter j (values wj, gradient gj) and zeroes gj.
func (o *adamW) stepOne(j int, wj, gj []float32, decay bool, lr, wd, gscale float64) {
	b1, b2 := float32(o.beta1), float32(o.beta2)
	ob1, ob2 := 1-b1, 1-b2
	eps := float32(o.eps)
	gs := float32(gscale)
	o.t[j]++
	t := float64(o.t[j])
	// lr/(1−β1ᵗ) folds the first bias correction into the step size;
	// the second is applied under the root.
	stepSize := float32(lr / (1 - math.Pow(o.beta1, t)))
	rbc2 := float32(1 / (1 - math.Pow(o.beta2, t)))
	keep := float32(1)
	if decay {
		keep = float32(1 - lr*wd)
	}
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

// coast steps the parameters idx (values all[j], decay flags allDecay[j],
// by model index) with a zero gradient — weight decay, then the moments'
// decay and the step they still give — skipping any that no update has
// reached yet: PyTorch's grad is None until a first backward reaches the
// parameter, and zero_grad() only zeroes it afterwards. zero must hold at
// least as many zeros as the largest parameter.
func (o *adamW) coast(idx []int, all [][]float32, allDecay []bool, zero []float32, lr, wd float64) {
	for _, j := range idx {
		if o.t[j] > 0 {
			o.stepOne(j, all[j], zero[:len(all[j])], allDecay[j], lr, wd, 1)
		}
	}
}
