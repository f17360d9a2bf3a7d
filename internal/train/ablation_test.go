package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/nets"
	"github.com/mksmt/workbench/internal/nets/nettest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The tests of the issue-12 switches: each changes exactly what it says,
// and the default (zero) value changes nothing.

func scheduleStrings(c Config) []string {
	var got []string
	for _, u := range schedule(c) {
		got = append(got, u.String())
	}
	return got
}

func TestAblationSchedules(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(c *Config)
		want []string
	}{
		{"baseline, updates 0 is one", func(c *Config) { c.Steps = 0 }, []string{"CE(z4)"}},
		{"baseline ×2", func(c *Config) { c.Steps, c.Updates = 0, 2 }, []string{"CE(z4)", "CE(z4)"}},
		{"baseline ×3", func(c *Config) { c.Steps, c.Updates = 0, 3 }, []string{"CE(z4)", "CE(z4)", "CE(z4)"}},
		{"three-step, pairs 4>2,4>3", func(c *Config) { c.Steps, c.ThreeStepPairs = 3, "4>2,4>3" },
			[]string{"CE(z2)", "CE(z3)", "CE(z4) + KD(2←4) + KD(3←4)"}},
		{"three-step, pairs 3>2,4>3", func(c *Config) { c.Steps, c.ThreeStepPairs = 3, "3>2,4>3" },
			[]string{"CE(z2)", "CE(z3)", "CE(z4) + KD(2←3) + KD(3←4)"}},
		{"three-step async kd-first, pairs 3>2,4>3", func(c *Config) { c.Steps, c.Mode, c.AsyncOrder, c.ThreeStepPairs = 3, "async", "kd-first", "3>2,4>3" },
			[]string{"CE(z2)", "CE(z3)", "KD(2←3) + KD(3←4)", "CE(z4)"}},
		{"two-step async ce-first", func(c *Config) { c.Mode, c.AsyncOrder = "async", "ce-first" },
			[]string{"CE(z3)", "CE(z4)", "KD(3←4)"}},
		{"two-step async kd-first", func(c *Config) { c.Mode, c.AsyncOrder = "async", "kd-first" },
			[]string{"CE(z3)", "KD(3←4)", "CE(z4)"}},
		{"async order without KD", func(c *Config) { c.Mode, c.AsyncOrder, c.Distill = "async", "kd-first", "none" },
			[]string{"CE(z3)", "CE(z4)"}},
		{"two-step ignores three_step_pairs", func(c *Config) { c.ThreeStepPairs = "3>2,4>3" },
			[]string{"CE(z3)", "CE(z4) + KD(3←4)"}},
	} {
		c := DefaultConfig()
		tc.set(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		if got := scheduleStrings(c); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	// KD(2←3) needs S3's head and the forward up to S4 (for KD(3←4)).
	c := DefaultConfig()
	c.Steps, c.ThreeStepPairs, c.Mode = 3, "3>2,4>3", "async"
	kd := schedule(c)[3]
	if kd.upTo() != 4 || fmt.Sprint(kd.heads()) != "[2 3 4]" {
		t.Errorf("KD update %v: up to S%d, heads %v", kd, kd.upTo(), kd.heads())
	}
	if u := (update{{kd: true, stage: 2, teacher: 3, weight: 1}}); u.upTo() != 3 || fmt.Sprint(u.heads()) != "[2 3]" {
		t.Errorf("KD(2←3) alone: up to S%d, heads %v", u.upTo(), u.heads())
	}
}

func TestAblationValidation(t *testing.T) {
	for _, tc := range []struct {
		set  func(c *Config)
		want string
	}{
		{func(c *Config) { c.Steps, c.Updates = 0, 4 }, "updates = 4"},
		{func(c *Config) { c.Steps, c.Updates = 2, 2 }, "needs steps = 0"},
		{func(c *Config) { c.ThreeStepPairs = "4>3" }, "three_step_pairs"},
		{func(c *Config) { c.AsyncOrder = "kd-last" }, "async_order"},
		{func(c *Config) { c.Optimizer = "sgd" }, "optimizer"},
		{func(c *Config) { c.LRSchedule = "step" }, "lr_schedule"},
		{func(c *Config) { c.Resize = 31 }, "resize = 31"},
		{func(c *Config) { c.Resize = 129 }, "resize = 129"},
	} {
		c := DefaultConfig()
		tc.set(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %q", c, err, tc.want)
		}
	}
	c := DefaultConfig()
	c.Steps, c.Updates, c.Resize, c.Optimizer, c.LRSchedule = 0, 3, 32, "pytorch-shared", "onecycle"
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

// The baseline's updates = 2 is the same CE(z4) update made twice on each
// batch: one shared graph, bit-identical to stepping the single update
// twice, and twice the optimizer updates of a run.
func TestBaselineUpdatesRepeatTheUpdate(t *testing.T) {
	one, two := tinyConfig(), tinyConfig()
	one.Steps, two.Steps, two.Updates = 0, 0, 2
	a, b := newTestTrainer(t, one), newTestTrainer(t, two)
	if len(b.updates) != 2 || b.updates[0] != b.updates[1] {
		t.Fatalf("updates = 2: %d updates, shared graph %v", len(b.updates), len(b.updates) == 2 && b.updates[0] == b.updates[1])
	}
	loadFirstBatch(t, a)
	loadFirstBatch(t, b)
	for range 2 {
		if err := a.step(a.updates[0], 1e-3); err != nil {
			t.Fatal(err)
		}
	}
	for _, ug := range b.updates {
		if err := b.step(ug, 1e-3); err != nil {
			t.Fatal(err)
		}
	}
	for j, p := range a.model.Params {
		if !slices.Equal(p.Value.Data().([]float32), b.model.Params[j].Value.Data().([]float32)) {
			t.Errorf("%s differs", p.Name)
		}
	}
	if b.adam.t[0] != 2 {
		t.Errorf("the stem took %d optimizer updates, want 2", b.adam.t[0])
	}

	for _, n := range []int{2, 3} {
		c := tinyConfig()
		c.Steps, c.Updates, c.Epochs = 0, n, 1
		var ev events
		res, err := Run(context.Background(), c, open(t, c), Options{Logger: &ev})
		if err != nil {
			t.Fatal(err)
		}
		if res.Steps != n*len(ev.steps) || len(ev.steps) != 8 {
			t.Errorf("updates = %d: %d optimizer updates in %d batches", n, res.Steps, len(ev.steps))
		}
	}
}

// Gradient checks of the loss forms the switches select: without T², and
// with the teacher attached (its gradient checked too).
func TestAblationLossGradients(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    nettest.Case
	}{
		{"KL, T = 4, no T²", nettest.Case{
			Inputs: []*tensor.Dense{nettest.Random(11, 3, 5)}, Const: []*tensor.Dense{nettest.Random(12, 3, 5)},
			Build: func(g *G.ExprGraph, in, c []*G.Node) (*G.Node, error) {
				return decisionKD(in[0], c[0], 4, kdForm{noT2: true})
			}}},
		{"KL, T = 2, teacher attached", nettest.Case{
			Inputs: []*tensor.Dense{nettest.Random(13, 3, 5), nettest.Random(14, 3, 5)},
			Build: func(g *G.ExprGraph, in, c []*G.Node) (*G.Node, error) {
				return decisionKD(in[0], in[1], 2, kdForm{attached: true})
			}}},
		{"MSE, teacher attached", nettest.Case{
			Inputs: []*tensor.Dense{nettest.Random(15, 3, 6), nettest.Random(16, 3, 6)},
			Build: func(g *G.ExprGraph, in, c []*G.Node) (*G.Node, error) {
				return featureKD(in[0], in[1], kdForm{attached: true})
			}}},
	} {
		t.Run(tc.name, func(t *testing.T) { nettest.Expect(t, tc.c, 1e-4) })
	}
	s, tch := tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{1, -2, 0.5})),
		tensor.New(tensor.WithShape(1, 3), tensor.WithBacking([]float64{0.3, 0.1, 2}))
	with := value(t, func(a, b *G.Node) (*G.Node, error) { return decisionKD(a, b, 3, kdForm{}) }, s, tch)
	without := value(t, func(a, b *G.Node) (*G.Node, error) { return decisionKD(a, b, 3, kdForm{noT2: true}) }, s, tch)
	if math.Abs(with-9*without) > 1e-12 || without <= 0 {
		t.Errorf("KD at T = 3: %g with T², %g without; want a factor 9", with, without)
	}
}

// updateGradients runs one update's forward and backward on the first
// batch and returns its gradients by parameter name.
func updateGradients(t *testing.T, tr *trainer, ug *updateGraph) map[string][]float32 {
	t.Helper()
	copy(ug.net.XValue.Data().([]float32), tr.updates[0].net.XValue.Data().([]float32))
	if _, err := ug.forward(); err != nil {
		t.Fatal(err)
	}
	if err := ug.gradients(); err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for k, j := range ug.wrt {
		out[tr.model.Params[j].Name] = slices.Clone(ug.grads[k])
	}
	return out
}

// kd_detach = false: in update (b), λ1·CE(z4) + λ2·KD(3←4), the teacher's
// stage gets a non-zero KD gradient (its gradient differs from CE(z4)
// alone), and async's KD-only update trains S4 and its head (not the
// output layer under feature KD).
func TestKDDetachOffTrainsTheTeacher(t *testing.T) {
	for _, distill := range []string{"decision", "feature"} {
		t.Run(distill, func(t *testing.T) {
			c := tinyConfig()
			c.Steps, c.Distill, c.Temperature, c.KDDetach = 2, distill, 2, Off
			tr := newTestTrainer(t, c)
			loadFirstBatch(t, tr)
			withKD := updateGradients(t, tr, tr.updates[1])
			ceOnly, err := newUpdateGraph(tr.model, c, update{tr.updates[1].u[0]}, tr.targets)
			if err != nil {
				t.Fatal(err)
			}
			alone := updateGradients(t, tr, ceOnly)
			differ := 0
			for j, p := range tr.model.Params {
				if p.Stage != 4 && p.Head != 4 {
					continue
				}
				g, ok := withKD[p.Name]
				if !ok {
					if tr.model.Params[j].Head == 4 && !p.Output {
						t.Errorf("%s: not in update (b)'s parameters", p.Name)
					}
					continue
				}
				if !slices.Equal(g, alone[p.Name]) {
					differ++
				}
			}
			if differ == 0 {
				t.Error("no S4 parameter gets a KD gradient with kd_detach = false")
			}

			c.Mode = "async"
			m, err := nets.New(c.Arch(4), tensor.Float32, 1)
			if err != nil {
				t.Fatal(err)
			}
			kdOnly := schedule(c)[2]
			var s4, out4 bool
			for _, p := range m.Params {
				if kdOnly.reaches(p, c) && p.Stage == 4 {
					s4 = true
				}
				if kdOnly.reaches(p, c) && p.Head == 4 && p.Output {
					out4 = true
				}
			}
			if !s4 || out4 != (distill == "decision") {
				t.Errorf("KD-only update %v reaches S4 %v, S4's output layer %v", kdOnly, s4, out4)
			}
		})
	}
}

// Each update's parameter list is exactly what gorgonia finds
// differentiable, also under the switches that change what KD reaches.
func TestAblationUpdateParametersAreTheDifferentiableOnes(t *testing.T) {
	for _, set := range []func(c *Config){
		func(c *Config) { c.Steps, c.KDDetach = 2, Off },
		func(c *Config) { c.Steps, c.Mode, c.KDDetach = 2, "async", Off },
		func(c *Config) { c.Steps, c.Mode, c.Distill, c.KDDetach = 2, "async", "feature", Off },
		func(c *Config) { c.Steps, c.ThreeStepPairs = 3, "3>2,4>3" },
		func(c *Config) { c.Steps, c.ThreeStepPairs, c.Mode, c.AsyncOrder = 3, "3>2,4>3", "async", "kd-first" },
		func(c *Config) { c.Steps, c.ThreeStepPairs, c.KDDetach, c.Distill = 3, "3>2,4>3", Off, "feature" },
	} {
		c := tinyConfig()
		set(&c)
		m, err := nets.New(c.Arch(4), tensor.Float32, 1)
		if err != nil {
			t.Fatal(err)
		}
		targets := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(c.BatchSize, 4))
		for _, u := range schedule(c) {
			ug, cost, err := buildUpdate(m, c, u, targets)
			if err != nil {
				t.Fatal(err)
			}
			var others G.Nodes
			for j, n := range ug.net.Params {
				if n != nil && !slices.Contains(ug.wrt, j) {
					others = append(others, n)
				}
			}
			name := fmt.Sprintf("steps %d %s %s detach %v pairs %s, update %v", c.Steps, c.Mode, c.Distill, c.DetachTeacher(), c.ThreeStepPairsOrDefault(), u)
			_, err = G.Grad(cost, append(slices.Clone(ug.nodes), others...)...)
			if len(others) == 0 {
				if err != nil {
					t.Errorf("%s: %v", name, err)
				}
				continue
			}
			var sde G.SymDiffError
			if !errors.As(err, &sde) || len(sde.Nodes()) != len(others) {
				t.Errorf("%s: %d parameters outside the update's list; gorgonia says %v", name, len(others), err)
			}
		}
	}
}

// With pairs 3>2,4>3 and the teacher detached, KD(2←3) does not train S3's
// head: in the async KD update S3's head is trained only as KD(3←4)'s
// student, and S4 not at all.
func TestThreeStepPairsTeacherS3(t *testing.T) {
	c := tinyConfig()
	c.Steps, c.ThreeStepPairs, c.Mode = 3, "3>2,4>3", "async"
	m, err := nets.New(c.Arch(4), tensor.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	only := update{{kd: true, stage: 2, teacher: 3, weight: 1}}
	for _, p := range m.Params {
		if only.reaches(p, c) != (p.Stage == 1 || p.Stage == 2 || p.Head == 2) {
			t.Errorf("KD(2←3) alone reaches %s: %v", p.Name, only.reaches(p, c))
		}
		kd := schedule(c)[3]
		if kd.reaches(p, c) && (p.Stage == 4 || p.Head == 4) {
			t.Errorf("the KD update %v trains the teacher's %s", kd, p.Name)
		}
	}
}

// optimizer = pytorch-shared: in update (a) of a later batch S4 (which
// update (a) does not reach) still moves, by the zero-gradient AdamW step;
// with its moments at zero that step is weight decay alone. Head 2, which
// no update reaches, never moves. skip-unreached leaves S4 bit-identical
// (TestUpdateALeavesS4BitIdentical).
func TestPyTorchSharedOptimizerMovesUnreachedParameters(t *testing.T) {
	c := tinyConfig()
	c.Steps, c.Optimizer = 2, "pytorch-shared"
	tr := newTestTrainer(t, c)
	loadFirstBatch(t, tr)
	const lr = 1e-3
	head2 := snapshot(tr, func(p *nets.Param) bool { return p.Head == 2 })
	// Batch 1, update (a): S4 has never had a gradient, so it is skipped.
	s4 := snapshot(tr, isS4)
	if err := tr.step(tr.updates[0], lr); err != nil {
		t.Fatal(err)
	}
	for k, v := range snapshot(tr, isS4) {
		if !slices.Equal(v, s4[k]) {
			t.Errorf("batch 1 update (a) changed %s, which had no gradient yet", k)
		}
	}
	if err := tr.step(tr.updates[1], lr); err != nil {
		t.Fatal(err)
	}

	// Update (a) again: S4 takes w·(1−lr·wd) − lr·m̂/(√v̂+ε) with g = 0.
	type ref struct{ w, m, v []float64 }
	refs := map[int]ref{}
	b1, b2 := 0.9, 0.999
	for j, p := range tr.model.Params {
		if !isS4(p) {
			continue
		}
		w := p.Value.Data().([]float32)
		r := ref{w: make([]float64, len(w)), m: make([]float64, len(w)), v: make([]float64, len(w))}
		tt := float64(tr.adam.t[j] + 1)
		for i := range w {
			m := b1 * float64(tr.adam.m[tr.adam.off[j]+i])
			v := b2 * float64(tr.adam.v[tr.adam.off[j]+i])
			x := float64(w[i])
			if decays(c, p) {
				x *= 1 - lr*c.WeightDecay
			}
			r.w[i] = x - lr*(m/(1-math.Pow(b1, tt)))/(math.Sqrt(v/(1-math.Pow(b2, tt)))+1e-8)
		}
		refs[j] = r
	}
	if err := tr.step(tr.updates[0], lr); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for j, r := range refs {
		w := tr.model.Params[j].Value.Data().([]float32)
		for i := range w {
			if d := math.Abs(float64(w[i]) - r.w[i]); d > 1e-6*math.Max(1, math.Abs(r.w[i])) {
				t.Fatalf("%s[%d]: %v, the zero-gradient AdamW step gives %v", tr.model.Params[j].Name, i, w[i], r.w[i])
			}
		}
		if tr.adam.t[j] != 2 {
			t.Errorf("%s: %d updates counted, want 2", tr.model.Params[j].Name, tr.adam.t[j])
		}
		moved++
	}
	if moved == 0 {
		t.Fatal("no S4 parameter checked")
	}

	// Moments at zero: update (a) moves S4's decayed weights by weight
	// decay alone, exactly, and leaves the others where they are.
	for j, p := range tr.model.Params {
		if isS4(p) {
			clear(tr.adam.m[tr.adam.off[j]:tr.adam.off[j+1]])
			clear(tr.adam.v[tr.adam.off[j]:tr.adam.off[j+1]])
		}
	}
	before := snapshot(tr, isS4)
	if err := tr.step(tr.updates[0], lr); err != nil {
		t.Fatal(err)
	}
	keep := float32(1 - lr*c.WeightDecay)
	for _, p := range tr.model.Params {
		if !isS4(p) {
			continue
		}
		w, w0 := p.Value.Data().([]float32), before[p.Name]
		for i := range w {
			want := w0[i]
			if p.Decay {
				want = w0[i] * keep
			}
			if w[i] != want {
				t.Fatalf("%s[%d]: %v, want %v (weight decay only)", p.Name, i, w[i], want)
			}
		}
	}
	for k, v := range snapshot(tr, func(p *nets.Param) bool { return p.Head == 2 }) {
		if !slices.Equal(v, head2[k]) {
			t.Errorf("%s moved, but no update ever reaches it", k)
		}
	}
}

// decay_norms: every parameter is decayed, so a norm scale or bias ends
// one update at w_without − lr·wd·w0 (the gradient step is the same).
func TestDecayNorms(t *testing.T) {
	plain, all := tinyConfig(), tinyConfig()
	all.DecayNorms = true
	a, b := newTestTrainer(t, plain), newTestTrainer(t, all)
	for k, ug := range b.updates {
		for i, j := range ug.wrt {
			if !ug.decay[i] {
				t.Errorf("decay_norms: %s not decayed", b.model.Params[j].Name)
			}
			if a.updates[k].decay[i] != a.model.Params[j].Decay {
				t.Errorf("default: %s decay %v, its flag %v", a.model.Params[j].Name, a.updates[k].decay[i], a.model.Params[j].Decay)
			}
		}
	}
	loadFirstBatch(t, a)
	loadFirstBatch(t, b)
	w0 := snapshot(a, func(*nets.Param) bool { return true })
	const lr = 1e-2
	for _, tr := range []*trainer{a, b} {
		if err := tr.step(tr.updates[0], lr); err != nil {
			t.Fatal(err)
		}
	}
	checked := 0
	for j, p := range a.model.Params {
		if p.Decay || a.adam.t[j] == 0 {
			continue
		}
		wa, wb := p.Value.Data().([]float32), b.model.Params[j].Value.Data().([]float32)
		for i := range wa {
			want := float64(wa[i]) - lr*plain.WeightDecay*float64(w0[p.Name][i])
			if math.Abs(float64(wb[i])-want) > 1e-6 {
				t.Fatalf("%s[%d]: %v with decay_norms, want %v", p.Name, i, wb[i], want)
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no undecayed parameter checked")
	}
}

// lr_schedule = onecycle is PyTorch's OneCycleLR with its defaults,
// checked against values worked by hand from its formulas.
func TestOneCycleMatchesPyTorch(t *testing.T) {
	const peak, total = 0.01, 100
	cos := func(start, end, pct float64) float64 { return end + (start-end)/2*(math.Cos(math.Pi*pct)+1) }
	for _, tc := range []struct {
		batch      int
		lr, beta1  float64
		whatItIsAt string
	}{
		{0, peak / 25, 0.95, "start: max_lr/div_factor, max_momentum"},
		{29, peak, 0.85, "end of the first phase (pct_start·total − 1)"},
		{14, cos(peak/25, peak, 14.0/29), cos(0.95, 0.85, 14.0/29), "half-way up"},
		{64, cos(peak, peak/25/1e4, 35.0/70), cos(0.85, 0.95, 35.0/70), "half-way down"},
		{99, peak / 25 / 1e4, 0.95, "last batch: initial_lr/final_div_factor"},
	} {
		lr, b1 := oneCycle(peak, tc.batch, total)
		if math.Abs(lr-tc.lr) > 1e-15 || math.Abs(b1-tc.beta1) > 1e-12 {
			t.Errorf("batch %d (%s): lr %g β1 %g, want %g %g", tc.batch, tc.whatItIsAt, lr, b1, tc.lr, tc.beta1)
		}
	}
	c := DefaultConfig()
	if lr, b1 := rates(c, 3, 10, 100); lr != learningRate(c.LR, 3, 10, 100) || b1 != 0.9 {
		t.Errorf("cosine: %g, β1 %g", lr, b1)
	}

	// A run reports the one-cycle rate and ends its last batch at the minimum.
	c = tinyConfig()
	c.LRSchedule, c.Epochs = "onecycle", 1
	var ev events
	if _, err := Run(context.Background(), c, open(t, c), Options{Logger: &ev}); err != nil {
		t.Fatal(err)
	}
	first, last := ev.steps[0].LR, ev.steps[len(ev.steps)-1].LR
	if math.Abs(first-c.LR/25) > 1e-15 || math.Abs(last-c.LR/25/1e4) > 1e-15 {
		t.Errorf("one-cycle run: first rate %g, last %g", first, last)
	}
}

// resize: the trainer resizes the data set's images to the configured
// shorter side before the crop; the default is the data set's own.
func TestResize(t *testing.T) {
	c := tinyConfig()
	def := newTestTrainer(t, c)
	if def.ds.StoredSide() != 18 {
		t.Errorf("default stored side %d, want 16 + 16/8 = 18", def.ds.StoredSide())
	}
	c.Resize = 24
	tr := newTestTrainer(t, c)
	if tr.ds.StoredSide() != 24 || tr.ds.Size() != 16 || tr.ds.Fingerprint() == "" {
		t.Fatalf("resize 24: stored side %d, size %d", tr.ds.StoredSide(), tr.ds.Size())
	}
	batch := func(tr *trainer) []float32 {
		it := tr.ds.Batches(context.Background(), data.IterOptions{Split: data.Test, BatchSize: 4})
		defer it.Close()
		if !it.Next() {
			t.Fatal("no batch")
		}
		return slices.Clone(it.Batch().X)
	}
	if slices.Equal(batch(def), batch(tr)) {
		t.Error("resize 24 gives the same centre crops as the default")
	}
	c.Resize = 18 // the default, written out: the same images
	if same := newTestTrainer(t, c); !slices.Equal(batch(same), batch(def)) {
		t.Error("resize 18 differs from the default 16 + 16/8")
	}
}

// Runs with every switch away from its default still resume bit-exactly
// from a checkpoint taken in the middle of a batch.
func TestAblationResumeIsExact(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(c *Config)
		stop int
	}{
		{"two-step async kd-first, pytorch-shared, onecycle, decay_norms, attached teacher, no T², resize", func(c *Config) {
			c.Steps, c.Mode, c.AsyncOrder, c.Optimizer, c.LRSchedule = 2, "async", "kd-first", "pytorch-shared", "onecycle"
			c.DecayNorms, c.KDDetach, c.KDScaleT2, c.Temperature, c.Resize = true, Off, Off, 2, 20
		}, 8},
		{"baseline ×3", func(c *Config) { c.Steps, c.Updates = 0, 3 }, 7},
		{"three-step 3>2,4>3", func(c *Config) { c.Steps, c.ThreeStepPairs, c.Optimizer = 3, "3>2,4>3", "pytorch-shared" }, 11},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tinyConfig()
			tc.set(&c)
			dir := t.TempDir()
			whole, _, err := runTrainer(t, c, filepath.Join(dir, "whole.ckpt"), false, 0)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "split.ckpt")
			if _, _, err := runTrainer(t, c, path, false, tc.stop); !errors.Is(err, ErrInterrupted) {
				t.Fatalf("stop at %d: %v", tc.stop, err)
			}
			resumed, _, err := runTrainer(t, c, path, true, 0)
			if err != nil {
				t.Fatal(err)
			}
			sameState(t, whole, resumed)
		})
	}
}

// The new fields at their defaults leave the config's JSON as it was, and
// a Switch keeps true, false and unset through JSON.
func TestAblationDefaultsKeepTheJSON(t *testing.T) {
	b, err := json.Marshal(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"updates", "kd_scale_t2", "kd_detach", "three_step_pairs", "async_order", "optimizer", "decay_norms", "lr_schedule", "resize"} {
		if strings.Contains(string(b), `"`+key+`"`) {
			t.Errorf("the default config's JSON has %s: %s", key, b)
		}
	}
	c := DefaultConfig()
	c.KDDetach, c.KDScaleT2 = Off, On
	b, err = json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"kd_scale_t2":true,"kd_detach":false`) {
		t.Errorf("switches written as %s", b)
	}
	var back Config
	if err := json.Unmarshal(b, &back); err != nil || back.KDDetach != Off || back.KDScaleT2 != On {
		t.Errorf("read back %v %v (%v)", back.KDScaleT2, back.KDDetach, err)
	}
	if why := sameRun(c, DefaultConfig()); why != "kd_scale_t2 is true in the checkpoint, unset now" {
		t.Errorf("sameRun: %q", why)
	}
}
