package train

import (
	"math"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
)

// TestExecutorMatchesTapeMachine runs each update graph of a two-step
// resnet and swin with the executor and with gorgonia's TapeMachine (bound
// dual values, as the trainer ran them before) on the same batch: the cost,
// every logged loss and every parameter gradient must be bit-for-bit equal.
func TestExecutorMatchesTapeMachine(t *testing.T) {
	for _, c := range []Config{tinyConfig(), tinySwinConfig()} {
		t.Run(c.Backbone, func(t *testing.T) {
			c.Steps, c.Mode, c.Distill = 2, "sync", "decision"
			tr := newTestTrainer(t, c)
			loadFirstBatch(t, tr)
			for _, ug := range tr.updates {
				// A first run: the compared one then writes into the
				// previous outputs, as every step of training does.
				if err := ug.exec.run(); err != nil {
					t.Fatal(err)
				}
				adds := 0
				for _, s := range ug.exec.steps {
					if s.add32 {
						adds++
					}
				}
				if adds == 0 {
					t.Errorf("update %v: no gradient sum runs on ops.Add32: the comparison does not cover it", ug.u)
				}
				grads := updateGradients(t, tr, ug)
				cost := scalarValue(ug.exec.value(ug.cost))
				losses := map[string]float64{}
				for _, comp := range ug.components {
					losses[comp.key] = scalarValue(ug.exec.value(comp.node))
				}

				var costV G.Value
				G.Read(ug.cost, &costV)
				comps := make([]G.Value, len(ug.components))
				for k, comp := range ug.components {
					G.Read(comp.node, &comps[k])
				}
				vm := G.NewTapeMachine(ug.net.G, G.BindDualValues(ug.nodes...))
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				if v := scalarValue(costV); math.Float64bits(v) != math.Float64bits(cost) {
					t.Errorf("update %v: cost %v, tape machine %v", ug.u, cost, v)
				}
				for k, comp := range ug.components {
					if v := scalarValue(comps[k]); math.Float64bits(v) != math.Float64bits(losses[comp.key]) {
						t.Errorf("update %v: %s %v, tape machine %v", ug.u, comp.key, losses[comp.key], v)
					}
				}
				for k, n := range ug.nodes {
					gv, err := n.Grad()
					if err != nil {
						t.Fatal(err)
					}
					name := tr.model.Params[ug.wrt[k]].Name
					if !slices.Equal(grads[name], gv.Data().([]float32)) {
						t.Errorf("update %v: gradient of %s differs from the tape machine's", ug.u, name)
					}
				}
				closeVM(vm)
			}
		})
	}
}
