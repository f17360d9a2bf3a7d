package train

import (
	"fmt"

	"github.com/mksmt/workbench/internal/data"
	G "gorgonia.org/gorgonia"
)

// memoryEstimate is what a run's graphs will hold once they have run: every
// node's value (the update graphs' forward and backward nodes, the
// evaluation graph's), the parameters with their gradients and AdamW's two
// moments, and the kernels' workspaces (about one more copy of the largest
// activations, counted as a quarter on top). Values are allocated on the
// first batch, so this is known, and checked, before anything large is.
func (t *trainer) memoryEstimate() int64 {
	var nodes int64
	count := func(g *G.ExprGraph) {
		for _, n := range g.AllNodes() {
			nodes += int64(max(1, n.Shape().TotalSize()))
		}
	}
	seen := map[*updateGraph]bool{} // identical updates share one graph
	for _, ug := range t.updates {
		if !seen[ug] {
			seen[ug] = true
			count(ug.net.G)
		}
	}
	count(t.eval.net.G)
	var params int64
	for _, p := range t.model.Params {
		params += int64(p.Size())
	}
	const f32 = 4
	return nodes*f32*5/4 + params*f32*4
}

// checkMemory refuses a run whose graphs would not fit in the machine's
// memory, naming the settings that size them, instead of letting the
// process be killed by the kernel mid-run.
func (t *trainer) checkMemory() error {
	need := t.memoryEstimate()
	have, what := data.MachineMemory()
	if need <= have {
		return nil
	}
	return fmt.Errorf("config: batch_size = %d at image_size = %d needs ~%.1f GB for the network's activations and weights, this machine has %.1f GB%s: lower batch_size, image_size or the widths",
		t.cfg.BatchSize, t.cfg.ImageSize, float64(need)/1e9, float64(have)/1e9, what)
}
