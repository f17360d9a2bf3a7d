package nets

import (
	"fmt"
	"slices"

	"github.com/mksmt/workbench/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Mode selects how batch norms behave in a built graph.
type Mode int

const (
	// Train normalises with the batch's statistics and updates the running
	// statistics on every forward pass.
	Train Mode = iota
	// Infer normalises with the running statistics (a fixed per-channel
	// affine map, differentiable: Grad-CAM backpropagates through it).
	Infer
)

// Spec says what one Build adds to a graph.
type Spec struct {
	Mode Mode
	// Batch is the number of images per forward pass, at least 2:
	// gorgonia's matrix product infers a (1, n) operand as a vector, so a
	// one-image batch would break the heads' linear layers.
	Batch int
	// UpTo is the deepest stage built (1..4): a forward that stops at S3
	// never reads S4's parameters.
	UpTo int
	// Heads are the stages (2..UpTo) that get an OPM and an output layer.
	Heads []int
	// Probes adds, at the output of each stage, a zero-valued input node
	// (Net.Probes): the gradient of a cost with respect to a probe is the
	// gradient with respect to that stage's feature map (Grad-CAM).
	Probes bool
}

// Net is the nodes of one forward pass built into a graph.
type Net struct {
	G *G.ExprGraph
	// X is the input images, (Batch, InChannels, ImageSize, ImageSize),
	// bound to XValue: write a batch into XValue's backing slice and run.
	X      *G.Node
	XValue *tensor.Dense
	// Stages[i] is stage i's feature map: (N, C, H, W) for resnet, tokens
	// (N, H·W, C) row-major for swin (see Layout). Index 0 is unused.
	Stages [5]*G.Node
	Probes [5]*G.Node
	// F[i] is OPM_i's output (N, K), Z[i] the output layer's logits
	// (N, Classes), for the stages in Spec.Heads.
	F, Z [5]*G.Node
	// Params[j] is the node of Model.Params[j] in this graph, nil when the
	// forward does not read it. Every node is bound to the parameter's
	// tensor, shared with the Model and every other graph built from it.
	Params []*G.Node
	// FLOPs per image of this forward: [0] backbone, [i] head i.
	FLOPs [5]int64
}

// Layout is how a stage's feature map is laid out in Net.Stages.
type Layout struct {
	C, H, W int
	// Tokens is true for swin's (N, H·W, C); false for resnet's (N, C, H, W).
	Tokens bool
}

// StageLayout describes stage i's feature map in network a.
func StageLayout(a Arch, i int) Layout {
	s := a.StageSide(i)
	return Layout{C: a.StageChannels(i), H: s, W: s, Tokens: a.Backbone == Swin}
}

// buildError carries an error out of the layer code to Build's recover.
type buildError struct{ err error }

// builder holds the state of one Build. Layer methods panic with a
// buildError on failure; Build recovers it into an ordinary error, which
// keeps the layer code as readable as the architecture it writes down.
type builder struct {
	m     *Model
	g     *G.ExprGraph
	mode  Mode
	batch int
	net   *Net
	group int // FLOPs are counted into net.FLOPs[group]
	flops [5]int64
	sh    *ops.Shared // the model's arena for this graph's gradients (Train), or nil
}

// Build adds the forward pass described by s to g.
//
// The Train-mode graphs of one Model share the memory of their op outputs
// — activations and the gradients with respect to them (ops.Arena): run
// them one at a time (as the trainer runs its updates, each followed by its
// optimizer step), and read such values (a stage's output, logits, a
// Probe's gradient) only before another Train graph of the model runs.
// Parameter gradients are each graph's own. Infer graphs share nothing.
func (m *Model) Build(g *G.ExprGraph, s Spec) (*Net, error) {
	if s.UpTo < 1 || s.UpTo > 4 {
		return nil, fmt.Errorf("build %s: UpTo = %d, want 1..4", m.Arch.Backbone, s.UpTo)
	}
	if s.Batch < 2 {
		return nil, fmt.Errorf("build %s: Batch = %d, want ≥ 2 (pad a single image)", m.Arch.Backbone, s.Batch)
	}
	for _, h := range s.Heads {
		if h < 2 || h > s.UpTo {
			return nil, fmt.Errorf("build %s: head S%d: heads exist for S2..S%d", m.Arch.Backbone, h, s.UpTo)
		}
	}
	b := m.newBuilder(g, s.Mode, s.Batch)
	if err := b.catch(func() { b.forward(s) }); err != nil {
		return nil, fmt.Errorf("build %s: %w", m.Arch.Backbone, err)
	}
	return b.net, nil
}

func (m *Model) newBuilder(g *G.ExprGraph, mode Mode, batch int) *builder {
	var sh *ops.Shared
	if mode == Train && m.arena != nil {
		sh = m.arena.ForGraph()
	}
	return &builder{
		m: m, g: g, mode: mode, batch: batch, sh: sh,
		net: &Net{G: g, Params: make([]*G.Node, len(m.Params))},
	}
}

// catch runs f, turning a buildError panic into an error.
func (b *builder) catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			be, ok := r.(buildError)
			if !ok {
				panic(r)
			}
			err = be.err
		}
	}()
	f()
	return nil
}

func (b *builder) forward(s Spec) {
	m, g := b.m, b.g
	a := m.Arch
	b.net.XValue = tensor.New(tensor.Of(m.Dtype), tensor.WithShape(s.Batch, a.InChannels, a.ImageSize, a.ImageSize))
	b.net.X = G.NewTensor(g, m.Dtype, 4, G.WithShape(b.net.XValue.Shape()...), G.WithName("x"), G.WithValue(b.net.XValue))

	var x *G.Node = b.net.X
	for i := 1; i <= s.UpTo; i++ {
		if a.Backbone == Swin {
			x = b.swinStage(x, i)
		} else {
			x = b.resnetStage(x, i)
		}
		if s.Probes {
			zero := tensor.New(tensor.Of(m.Dtype), tensor.WithShape(x.Shape()...))
			p := G.NewTensor(g, m.Dtype, x.Dims(), G.WithShape(x.Shape()...), G.WithName(fmt.Sprintf("probe%d", i)), G.WithValue(zero))
			b.net.Probes[i] = p
			x = b.do(G.Add(x, p))
		}
		b.net.Stages[i] = x
	}
	heads := slices.Clone(s.Heads)
	slices.Sort(heads)
	for _, h := range slices.Compact(heads) {
		b.group = h
		b.net.F[h], b.net.Z[h] = b.head(b.net.Stages[h], h)
	}
	for i, f := range b.flops {
		b.net.FLOPs[i] = f / int64(s.Batch)
	}
}

// do unwraps a gorgonia result, panicking with a buildError on failure.
func (b *builder) do(n *G.Node, err error) *G.Node {
	if err != nil {
		panic(buildError{err})
	}
	return n
}

func (b *builder) fail(format string, args ...any) {
	panic(buildError{fmt.Errorf(format, args...)})
}

// param returns the node of the named parameter in this graph.
func (b *builder) param(name string) *G.Node {
	j, ok := b.m.index[name]
	if !ok {
		b.fail("no parameter %q", name)
	}
	if n := b.net.Params[j]; n != nil {
		return n
	}
	p := b.m.Params[j]
	n := G.NewTensor(b.g, b.m.Dtype, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(p.Value))
	b.net.Params[j] = n
	return n
}

// count adds multiply-adds (for the whole batch) to the current group.
func (b *builder) count(macs int) { b.flops[b.group] += 2 * int64(macs) }

// head is OPM_i then the output layer: returns (f_i, z_i).
func (b *builder) head(x *G.Node, i int) (f, z *G.Node) {
	pre := fmt.Sprintf("h%d", i)
	var pooled *G.Node
	if b.m.Arch.Backbone == Swin {
		// LayerNorm → mean over tokens.
		pooled = b.meanTokens(b.layerNorm(x, pre+".opm.norm"))
	} else {
		// global average pool → LayerNorm.
		pooled = b.layerNorm(b.globalAvgPool(x), pre+".opm.norm")
	}
	f = b.gelu(b.linear(pooled, pre+".opm.fc", true))
	z = b.linear(f, pre+".out", true)
	return f, z
}
