package train

import (
	"math"
	"testing"

	"github.com/mksmt/workbench/internal/nets/nettest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// smoothed returns label-smoothed one-hot targets (n, k) for labels.
func smoothed(labels []int, k int, eps float64) *tensor.Dense {
	v := make([]float64, len(labels)*k)
	for i, y := range labels {
		for c := range k {
			v[i*k+c] = eps / float64(k)
		}
		v[i*k+y] += 1 - eps
	}
	return tensor.New(tensor.WithShape(len(labels), k), tensor.WithBacking(v))
}

func TestLossGradients(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    nettest.Case
	}{
		{"cross-entropy", nettest.Case{
			Inputs: []*tensor.Dense{nettest.Random(1, 3, 5)}, Const: []*tensor.Dense{smoothed([]int{0, 3, 4}, 5, 0)},
			Build: func(g *G.ExprGraph, in, c []*G.Node) (*G.Node, error) { return crossEntropy(in[0], c[0]) }}},
		{"cross-entropy, label smoothing 0.1", nettest.Case{
			Inputs: []*tensor.Dense{nettest.Random(2, 3, 5)}, Const: []*tensor.Dense{smoothed([]int{1, 1, 2}, 5, 0.1)},
			Build: func(g *G.ExprGraph, in, c []*G.Node) (*G.Node, error) { return crossEntropy(in[0], c[0]) }}},
		{"KL, T = 1", nettest.Case{
			Inputs: []*tensor.Dense{nettest.Random(3, 3, 5)}, Const: []*tensor.Dense{nettest.Random(4, 3, 5)},
			Build: func(g *G.ExprGraph, in, c []*G.Node) (*G.Node, error) { return decisionKD(in[0], c[0], 1, kdForm{}) }}},
		{"KL, T = 4", nettest.Case{
			Inputs: []*tensor.Dense{nettest.Random(5, 3, 5)}, Const: []*tensor.Dense{nettest.Random(6, 3, 5)},
			Build: func(g *G.ExprGraph, in, c []*G.Node) (*G.Node, error) { return decisionKD(in[0], c[0], 4, kdForm{}) }}},
		{"MSE", nettest.Case{
			Inputs: []*tensor.Dense{nettest.Random(7, 3, 6)}, Const: []*tensor.Dense{nettest.Random(8, 3, 6)},
			Build: func(g *G.ExprGraph, in, c []*G.Node) (*G.Node, error) { return featureKD(in[0], c[0], kdForm{}) }}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nettest.Expect(t, tc.c, 1e-4)
		})
	}
}

// value runs a loss once on float64 inputs.
func value(t *testing.T, f func(a, b *G.Node) (*G.Node, error), a, b *tensor.Dense) float64 {
	t.Helper()
	g := G.NewGraph()
	an := G.NewTensor(g, tensor.Float64, 2, G.WithShape(a.Shape()...), G.WithValue(a), G.WithName("a"))
	bn := G.NewTensor(g, tensor.Float64, 2, G.WithShape(b.Shape()...), G.WithValue(b), G.WithName("b"))
	l, err := f(an, bn)
	if err != nil {
		t.Fatal(err)
	}
	var v G.Value
	G.Read(l, &v)
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return scalarValue(v)
}

func TestLossValues(t *testing.T) {
	m := func(rows ...[]float64) *tensor.Dense {
		var v []float64
		for _, r := range rows {
			v = append(v, r...)
		}
		return tensor.New(tensor.WithShape(len(rows), len(rows[0])), tensor.WithBacking(v))
	}
	kd := func(temp float64) func(a, b *G.Node) (*G.Node, error) {
		return func(a, b *G.Node) (*G.Node, error) { return decisionKD(a, b, temp, kdForm{}) }
	}
	// KL(p‖q) for p = softmax(teacher/T), q = softmax(student/T), by hand.
	kl := func(s, tch []float64, temp float64) float64 {
		sm := func(z []float64) []float64 {
			var sum float64
			p := make([]float64, len(z))
			for i, v := range z {
				p[i] = math.Exp(v / temp)
				sum += p[i]
			}
			for i := range p {
				p[i] /= sum
			}
			return p
		}
		p, q := sm(tch), sm(s)
		var d float64
		for i := range p {
			d += p[i] * math.Log(p[i]/q[i])
		}
		return d
	}
	s, tch := []float64{1, -2, 0.5}, []float64{0.3, 0.1, 2}
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"CE of zero logits is log K", value(t, crossEntropy, m([]float64{0, 0, 0, 0}, []float64{0, 0, 0, 0}), smoothed([]int{1, 2}, 4, 0)), math.Log(4)},
		{"CE of a confident right answer", value(t, crossEntropy, m([]float64{20, 0}), smoothed([]int{0}, 2, 0)), math.Log(1 + math.Exp(-20))},
		{"KD of identical logits is 0", value(t, kd(2), m(s), m(s)), 0},
		{"KD, T = 1", value(t, kd(1), m(s), m(tch)), kl(s, tch, 1)},
		{"KD, T = 3, scaled by T²", value(t, kd(3), m(s), m(tch)), 9 * kl(s, tch, 3)},
		{"KD averages over the batch", value(t, kd(1), m(s, tch), m(tch, tch)), kl(s, tch, 1) / 2},
		{"MSE", value(t, func(a, b *G.Node) (*G.Node, error) { return featureKD(a, b, kdForm{}) }, m([]float64{1, 2}, []float64{3, 4}), m([]float64{0, 0}, []float64{0, 2})), (1 + 4 + 9 + 4) / 4.0},
	} {
		if math.Abs(tc.got-tc.want) > 1e-12 {
			t.Errorf("%s: %.15g, want %.15g", tc.name, tc.got, tc.want)
		}
	}
}

// The teacher's side of a distillation loss is detached: gorgonia finds no
// gradient path to it.
func TestDistillationDetachesTheTeacher(t *testing.T) {
	for name, f := range map[string]func(s, tch *G.Node) (*G.Node, error){
		"decision": func(s, tch *G.Node) (*G.Node, error) { return decisionKD(s, tch, 2, kdForm{}) },
		"feature":  func(s, tch *G.Node) (*G.Node, error) { return featureKD(s, tch, kdForm{}) },
	} {
		g := G.NewGraph()
		s := G.NewTensor(g, tensor.Float64, 2, G.WithShape(2, 3), G.WithValue(nettest.Random(1, 2, 3)), G.WithName("s"))
		tch := G.NewTensor(g, tensor.Float64, 2, G.WithShape(2, 3), G.WithValue(nettest.Random(2, 2, 3)), G.WithName("t"))
		l, err := f(s, tch)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := G.Grad(l, tch); err == nil {
			t.Errorf("%s: the teacher has a gradient", name)
		}
	}
}
