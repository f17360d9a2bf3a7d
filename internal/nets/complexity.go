package nets

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Complexity is the paper's Table 7 for one network and set of trained
// heads: parameters and forward FLOPs per image, split into the inference
// part (backbone, OPM_4 and S4's output layer) and the training-only extras
// (the other trained stages' OPMs and output layers).
//
// FLOPs are 2 × multiply-adds of convolutions, linear layers and the two
// attention products (QKᵀ and AV); norms, activations, pooling, softmax and
// additions are not counted, as in the usual FLOP counters.
type Complexity struct {
	ParamsInference, ParamsExtra int64
	FLOPsInference, FLOPsExtra   int64
}

// ComplexityOf counts a's parameters and FLOPs when the heads of the given
// stages are trained (S4's always is).
func ComplexityOf(a Arch, heads []int) (Complexity, error) {
	if err := a.Validate(); err != nil {
		return Complexity{}, fmt.Errorf("complexity: %w", err)
	}
	for _, h := range heads {
		if h < 2 || h > 4 {
			return Complexity{}, fmt.Errorf("complexity: head S%d: heads exist for S2..S4", h)
		}
	}
	var c Complexity
	m := declare(a)
	for _, p := range m.Params {
		switch {
		case p.Head == 0 || p.Head == 4:
			c.ParamsInference += int64(p.Size())
		case slices.Contains(heads, p.Head):
			c.ParamsExtra += int64(p.Size())
		}
	}

	// FLOPs: the layer code counts what it builds, so build it once.
	mf, err := New(a, tensor.Float32, 0)
	if err != nil {
		return Complexity{}, err
	}
	net, err := mf.Build(G.NewGraph(), Spec{Mode: Infer, Batch: 2, UpTo: 4, Heads: []int{2, 3, 4}})
	if err != nil {
		return Complexity{}, fmt.Errorf("complexity: %w", err)
	}
	c.FLOPsInference = net.FLOPs[0] + net.FLOPs[4]
	for _, h := range []int{2, 3} {
		if slices.Contains(heads, h) {
			c.FLOPsExtra += net.FLOPs[h]
		}
	}
	return c, nil
}
