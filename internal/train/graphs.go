package train

import (
	"fmt"
	"math"
	"runtime"

	"github.com/mksmt/workbench/internal/nets"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// updateGraph is one kind of update of the schedule, compiled once per run:
// its own graph (gorgonia's Grad must not run twice on one graph) and
// executor, over the model's shared parameter tensors.
type updateGraph struct {
	u    update
	net  *nets.Net
	exec *executor

	// The parameters the update's loss reaches, in model order: their
	// indices, nodes, values and decay flags.
	wrt       []int
	nodes     []*G.Node
	w         [][]float32
	decay     []bool
	gradNodes []*G.Node   // d cost / d nodes[k], from gorgonia.Grad
	grads     [][]float32 // refreshed after every backward pass
	// idle are the model's other parameters, which optimizer =
	// "pytorch-shared" steps with a zero gradient.
	idle []int

	cost       *G.Node
	components []component
}

// component is one logged loss of an update: CE of a head, or the sum of
// its KD terms, before weighting.
type component struct {
	key  string
	node *G.Node
}

// reaches reports whether the update's loss has a gradient with respect to
// p: every term trains the backbone up to its stage and its head; the
// teacher's side of a KD term is detached (unless kd_detach = false, when
// KD also trains the backbone up to the teacher and the teacher's head),
// and feature distillation compares OPM outputs, so it does not reach an
// output layer.
func (u update) reaches(p *nets.Param, cfg Config) bool {
	feature := cfg.Distill == "feature"
	for _, t := range u {
		if p.Stage >= 1 && p.Stage <= t.stage {
			return true
		}
		if p.Head == t.stage && !(t.kd && feature && p.Output) {
			return true
		}
		if t.kd && !cfg.DetachTeacher() {
			if p.Stage >= 1 && p.Stage <= t.teacher {
				return true
			}
			if p.Head == t.teacher && !(feature && p.Output) {
				return true
			}
		}
	}
	return false
}

// newUpdateGraph builds u's forward, losses and backward over m, reading
// images from its own input tensor and targets from the shared one, and
// compiles them.
func newUpdateGraph(m *nets.Model, cfg Config, u update, targets *tensor.Dense) (*updateGraph, error) {
	ug, cost, err := buildUpdate(m, cfg, u, targets)
	if err != nil {
		return nil, err
	}
	if ug.gradNodes, err = G.Grad(cost, ug.nodes...); err != nil {
		return nil, fmt.Errorf("update %v: gradient: %w", u, err)
	}
	if ug.exec, err = newExecutor(ug.net.G); err != nil {
		return nil, fmt.Errorf("update %v: %w", u, err)
	}
	return ug, nil
}

// buildUpdate builds u's forward pass and loss (the scalar cost) and
// chooses the parameters it reaches, without differentiating.
func buildUpdate(m *nets.Model, cfg Config, u update, targets *tensor.Dense) (*updateGraph, *G.Node, error) {
	g := G.NewGraph()
	net, err := m.Build(g, nets.Spec{Mode: nets.Train, Batch: cfg.BatchSize, UpTo: u.upTo(), Heads: u.heads()})
	if err != nil {
		return nil, nil, err
	}
	ug := &updateGraph{u: u, net: net}
	tn := G.NewTensor(g, m.Dtype, 2, G.WithShape(targets.Shape()...), G.WithName("targets"), G.WithValue(targets))

	var cost, kdSum *G.Node
	var c chain
	for _, t := range u {
		var l *G.Node
		switch {
		case !t.kd:
			l = c.do(crossEntropy(net.Z[t.stage], tn))
			ug.components = append(ug.components, component{fmt.Sprintf("loss.ce%d", t.stage), l})
		case cfg.Distill == "feature":
			l = c.do(featureKD(net.F[t.stage], net.F[t.teacher], kdFormOf(cfg)))
		default:
			l = c.do(decisionKD(net.Z[t.stage], net.Z[t.teacher], cfg.Temperature, kdFormOf(cfg)))
		}
		if c.err != nil {
			return nil, nil, fmt.Errorf("update %v: %w", u, c.err)
		}
		if t.kd {
			if kdSum == nil {
				kdSum = l
			} else {
				kdSum = c.do(G.Add(kdSum, l))
			}
		}
		if t.weight != 1 {
			l = c.do(G.Mul(l, scalarLike(l, t.weight)))
		}
		if cost == nil {
			cost = l
		} else {
			cost = c.do(G.Add(cost, l))
		}
	}
	if kdSum != nil {
		ug.components = append(ug.components, component{KeyLossKD, kdSum})
	}
	if c.err != nil {
		return nil, nil, fmt.Errorf("update %v: %w", u, c.err)
	}
	ug.cost = cost

	for j, p := range m.Params {
		if net.Params[j] != nil && u.reaches(p, cfg) {
			ug.wrt = append(ug.wrt, j)
			ug.nodes = append(ug.nodes, net.Params[j])
			ug.w = append(ug.w, p.Value.Float32s())
			ug.decay = append(ug.decay, decays(cfg, p))
		} else {
			ug.idle = append(ug.idle, j)
		}
	}
	ug.grads = make([][]float32, len(ug.wrt))
	return ug, cost, nil
}

// forward runs the forward and backward passes on the images already in
// net.XValue. It returns the name of a loss that is not finite, if any.
func (ug *updateGraph) forward() (bad string, err error) {
	if err := ug.exec.run(); err != nil {
		return "", fmt.Errorf("update %v: %w", ug.u, err)
	}
	for _, c := range ug.components {
		if v := scalarValue(ug.exec.value(c.node)); math.IsNaN(v) || math.IsInf(v, 0) {
			return c.key, nil
		}
	}
	if v := scalarValue(ug.exec.value(ug.cost)); math.IsNaN(v) || math.IsInf(v, 0) {
		return "loss", nil
	}
	return "", nil
}

// gradients points ug.grads at the parameters' gradient tensors.
func (ug *updateGraph) gradients() error {
	for k, n := range ug.gradNodes {
		gv, ok := ug.exec.value(n).(*tensor.Dense)
		if !ok || gv.Dtype() != tensor.Float32 {
			return fmt.Errorf("update %v: no float32 gradient of %s", ug.u, ug.nodes[k].Name())
		}
		ug.grads[k] = gv.Float32s() // unlike Data(), allocates nothing
	}
	return nil
}

// closeVM closes a gorgonia machine and drops the finalizer gorgonia sets
// on it. The machine sits in a reference cycle with its program and graph,
// and Go never collects a cycle that holds an object with a finalizer: every
// run's graphs, with the ops' output buffers (~180 MB for the benchmark
// batch), stayed in memory until the process ended. The finalizer only
// releases CUDA contexts, which this build has none of (Close has already
// called it).
func closeVM(vm G.VM) {
	vm.Close()
	runtime.SetFinalizer(vm, nil)
}

func scalarValue(v G.Value) float64 {
	switch x := v.Data().(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	case []float32:
		return float64(x[0])
	case []float64:
		return x[0]
	}
	return math.NaN()
}

// evalGraph is the inference forward (batch norms use their running
// statistics) with the trained heads, compiled once per run.
type evalGraph struct {
	net    *nets.Net
	exec   *executor
	heads  []int
	logits [5]G.Value // the heads' logits, as of the last run
}

func newEvalGraph(m *nets.Model, batch int, heads []int) (*evalGraph, error) {
	g := G.NewGraph()
	net, err := m.Build(g, nets.Spec{Mode: nets.Infer, Batch: batch, UpTo: 4, Heads: heads})
	if err != nil {
		return nil, fmt.Errorf("evaluation graph: %w", err)
	}
	e := &evalGraph{net: net, heads: heads}
	if e.exec, err = newExecutor(g); err != nil {
		return nil, fmt.Errorf("evaluation graph: %w", err)
	}
	return e, nil
}

// run computes the logits of the images in net.XValue.
func (e *evalGraph) run() error {
	if err := e.exec.run(); err != nil {
		return fmt.Errorf("evaluation: %w", err)
	}
	for _, h := range e.heads {
		e.logits[h] = e.exec.value(e.net.Z[h])
	}
	return nil
}

// decays reports whether weight decay applies to p: its own flag (weights
// of convolutions and linear layers), or every parameter with decay_norms.
func decays(c Config, p *nets.Param) bool { return p.Decay || c.DecayNorms }
