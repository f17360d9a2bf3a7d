package nets

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mksmt/workbench/internal/ops"
	"gorgonia.org/tensor"
)

// Param is one learnable tensor of a Model.
type Param struct {
	Name  string
	Shape []int
	// Stage is the backbone stage (1..4) the parameter belongs to; the stem
	// and the patch embedding count as S1, a patch merging as the stage it
	// feeds. 0 for head parameters.
	Stage int
	// Head is the stage (2..4) whose OPM or output layer this parameter is
	// part of; 0 for backbone parameters.
	Head int
	// Output marks the parameters of a head's output layer (Head > 0), as
	// opposed to its OPM: a feature-distillation loss on f_i does not reach
	// them.
	Output bool
	// Decay reports whether weight decay applies: true for the weights of
	// convolutions and linear layers, false for biases, norms and Swin's
	// relative position bias table.
	Decay bool
	Value *tensor.Dense

	init initKind
}

// Size is the number of elements.
func (p *Param) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Norm is one batch-normalisation layer: its running statistics, shared by
// every graph built from the Model, and the indices of its γ and β in
// Model.Params.
type Norm struct {
	Name        string
	State       *ops.BNState
	Gamma, Beta int
}

// Model is a network's parameters and running statistics.
type Model struct {
	Arch   Arch
	Dtype  tensor.Dtype
	Params []*Param // a fixed order: the optimizer's state follows it
	Norms  []*Norm  // resnet only; fixed order

	index map[string]int // parameter name -> index
	norms map[string]*Norm
	// arena holds the activation gradients of every Train-mode graph built
	// from the model (see Build).
	arena *ops.Arena
}

type initKind int

const (
	initZeros    initKind = iota
	initOnes              // norm scales
	initHe                // conv weights: N(0, 2/fan_in)
	initTrunc             // transformer weights: N(0, 0.02²) truncated at ±2σ
	initFanInUni          // head linear layers: U(−1/√fan_in, 1/√fan_in)
)

// New returns a model with freshly initialised parameters of dtype
// (tensor.Float32 to train, tensor.Float64 for gradient checks); the same
// arch and seed give the same values.
func New(a Arch, dt tensor.Dtype, seed int64) (*Model, error) {
	if err := a.Validate(); err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, fmt.Errorf("network: dtype %v: want float32 or float64", dt)
	}
	m := declare(a)
	m.Dtype = dt
	allocate(m, seed)
	return m, nil
}

// allocate gives m's parameters their initial values and its norms fresh
// running statistics.
func allocate(m *Model, seed int64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x6d6b736d74))
	for _, p := range m.Params {
		vals := initValues(p, rng)
		if m.Dtype == tensor.Float32 {
			f := make([]float32, len(vals))
			for i, v := range vals {
				f[i] = float32(v)
			}
			p.Value = tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(f))
		} else {
			p.Value = tensor.New(tensor.WithShape(p.Shape...), tensor.WithBacking(vals))
		}
	}
	for _, n := range m.Norms {
		n.State = ops.NewBNState(m.Params[n.Gamma].Shape[0])
	}
}

// Param returns the parameter called name, or nil.
func (m *Model) Param(name string) *Param {
	if i, ok := m.index[name]; ok {
		return m.Params[i]
	}
	return nil
}

func initValues(p *Param, rng *rand.Rand) []float64 {
	v := make([]float64, p.Size())
	fanIn := 1
	switch len(p.Shape) {
	case 4: // conv (O, C, KH, KW)
		fanIn = p.Shape[1] * p.Shape[2] * p.Shape[3]
	case 2: // linear (in, out)
		fanIn = p.Shape[0]
	}
	switch p.init {
	case initOnes:
		for i := range v {
			v[i] = 1
		}
	case initHe:
		std := math.Sqrt(2 / float64(fanIn))
		for i := range v {
			v[i] = rng.NormFloat64() * std
		}
	case initTrunc:
		for i := range v {
			x := rng.NormFloat64()
			for math.Abs(x) > 2 {
				x = rng.NormFloat64()
			}
			v[i] = 0.02 * x
		}
	case initFanInUni:
		b := 1 / math.Sqrt(float64(fanIn))
		for i := range v {
			v[i] = (2*rng.Float64() - 1) * b
		}
	}
	return v
}

// declarer lists a model's parameters in their fixed order.
type declarer struct {
	m           *Model
	stage, head int
	output      bool
}

func declare(a Arch) *Model {
	d := &declarer{m: &Model{Arch: a, index: map[string]int{}, norms: map[string]*Norm{}, arena: ops.NewArena()}}
	if a.Backbone == Swin {
		d.swin()
	} else {
		d.resnet()
	}
	for i := 2; i <= 4; i++ {
		d.stage, d.head = 0, i
		d.headParams(i)
	}
	return d.m
}

func (d *declarer) add(name string, init initKind, decay bool, shape ...int) {
	if _, dup := d.m.index[name]; dup {
		panic("nets: parameter declared twice: " + name)
	}
	d.m.index[name] = len(d.m.Params)
	d.m.Params = append(d.m.Params, &Param{
		Name: name, Shape: shape, Stage: d.stage, Head: d.head, Output: d.output, Decay: decay, init: init,
	})
}

// linear declares name.w (in, out) and, with bias, name.b (out).
func (d *declarer) linear(name string, init initKind, in, out int, bias bool) {
	d.add(name+".w", init, true, in, out)
	if bias {
		d.add(name+".b", initZeros, false, out)
	}
}

// layerNorm declares name.g and name.b over c features.
func (d *declarer) layerNorm(name string, c int) {
	d.add(name+".g", initOnes, false, c)
	d.add(name+".b", initZeros, false, c)
}

func (d *declarer) conv(name string, out, in, k int) {
	d.add(name, initHe, true, out, in, k, k)
}

func (d *declarer) batchNorm(name string, c int) {
	d.add(name+".g", initOnes, false, c)
	d.add(name+".b", initZeros, false, c)
	n := &Norm{Name: name, Gamma: d.m.index[name+".g"], Beta: d.m.index[name+".b"]}
	d.m.Norms = append(d.m.Norms, n)
	d.m.norms[name] = n
}

// headParams declares OPM_i (norm, linear C_i→K) and output layer K→classes.
func (d *declarer) headParams(i int) {
	a := d.m.Arch
	pre := fmt.Sprintf("h%d", i)
	d.layerNorm(pre+".opm.norm", a.StageChannels(i))
	d.linear(pre+".opm.fc", initFanInUni, a.StageChannels(i), a.HeadDim, true)
	d.output = true
	d.linear(pre+".out", initFanInUni, a.HeadDim, a.Classes, true)
	d.output = false
}

func (d *declarer) resnet() {
	a := d.m.Arch
	d.stage = 1
	d.conv("stem.conv", a.Widths[0], a.InChannels, 3)
	d.batchNorm("stem.bn", a.Widths[0])
	in := a.Widths[0]
	for s := 1; s <= 4; s++ {
		d.stage = s
		out := a.Widths[s-1]
		for b := 0; b < a.Depths[s-1]; b++ {
			pre := fmt.Sprintf("s%d.b%d", s, b)
			d.conv(pre+".conv1", out, in, 3)
			d.batchNorm(pre+".bn1", out)
			d.conv(pre+".conv2", out, out, 3)
			d.batchNorm(pre+".bn2", out)
			if b == 0 && (s > 1 || in != out) {
				d.conv(pre+".proj", out, in, 1)
				d.batchNorm(pre+".projbn", out)
			}
			in = out
		}
	}
}

func (d *declarer) swin() {
	a := d.m.Arch
	d.stage = 1
	p := a.PatchSize
	d.linear("embed", initTrunc, a.InChannels*p*p, a.EmbedDim, true)
	d.layerNorm("embed.norm", a.EmbedDim)
	for s := 1; s <= 4; s++ {
		d.stage = s
		c := a.StageChannels(s)
		if s > 1 {
			d.layerNorm(fmt.Sprintf("s%d.merge.norm", s), 2*c)
			d.linear(fmt.Sprintf("s%d.merge", s), initTrunc, 2*c, c, false)
		}
		win, _ := a.StageWindow(s)
		hidden := int(a.MLPRatio * float64(c))
		for b := 0; b < a.Depths[s-1]; b++ {
			pre := fmt.Sprintf("s%d.b%d", s, b)
			d.layerNorm(pre+".norm1", c)
			d.linear(pre+".attn.q", initTrunc, c, c, true)
			d.linear(pre+".attn.k", initTrunc, c, c, true)
			d.linear(pre+".attn.v", initTrunc, c, c, true)
			d.add(pre+".attn.rpb", initTrunc, false, (2*win-1)*(2*win-1), a.Heads[s-1])
			d.linear(pre+".attn.proj", initTrunc, c, c, true)
			d.layerNorm(pre+".norm2", c)
			d.linear(pre+".mlp.fc1", initTrunc, c, hidden, true)
			d.linear(pre+".mlp.fc2", initTrunc, hidden, c, true)
		}
	}
}
