package train

import (
	"fmt"
	"strings"

	"github.com/mksmt/workbench/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// executor runs a graph's ops in the order gorgonia's TapeMachine runs
// them (gorgonia.Sort, reversed: inputs first), each node's output kept in
// its own slot, without the machine. The machine allocated about six
// objects per instruction and batch (argument slices, boxed log
// arguments, escaping result variables) and, with BindDualValues, added
// every parameter gradient into a second tensor per step: ~10,000
// allocations and a pass over all parameters per swin batch. Here an op
// gets its inputs in one reused slice; ops that can write into their
// previous output (UsePreallocDoer) do so, the others (the workbench's
// custom ops keep their own output buffers) are called with Do. Values are
// read back by node (value), so graphs run here hold no gorgonia.Read
// nodes.
type executor struct {
	steps []execStep
	vals  []G.Value // by node index, as of the last run
	index map[*G.Node]int
	args  []G.Value // the argument slice every step reuses
}

type execStep struct {
	node *G.Node // an input (Op nil): its value is read at every run
	op   G.Op
	pd   G.UsePreallocDoer // op as a UsePreallocDoer, or nil
	in   []int             // argument node indices, in the op's order
	out  int
	// add32: gorgonia's elementwise + of two float32 tensors of one shape
	// (the gradient sums autodiff inserts where a value has several
	// consumers), run on ops.Add32's parallel kernel: gorgonia's runs on
	// one core, ~4 % of a resnet batch.
	add32 bool
}

func newExecutor(g *G.ExprGraph) (*executor, error) {
	sorted, err := G.Sort(g)
	if err != nil {
		return nil, err
	}
	e := &executor{index: make(map[*G.Node]int, len(sorted)), vals: make([]G.Value, len(sorted))}
	for i := len(sorted) - 1; i >= 0; i-- {
		e.index[sorted[i]] = len(sorted) - 1 - i
	}
	width := 0
	for i := len(sorted) - 1; i >= 0; i-- {
		n := sorted[i]
		s := execStep{node: n, op: n.Op(), out: e.index[n]}
		if s.op != nil {
			switch t := fmt.Sprintf("%T", s.op); t {
			case "gorgonia.readOp", "gorgonia.letOp":
				return nil, fmt.Errorf("graph node %v: %s statements are not run here; read values with executor.value", n.Name(), t)
			}
			s.pd, _ = s.op.(G.UsePreallocDoer)
			var in []*G.Node
			for it := g.From(n.ID()); it.Next(); {
				c := it.Node().(*G.Node)
				k, ok := e.index[c]
				if !ok {
					return nil, fmt.Errorf("graph node %v: input %v is not in the graph", n.Name(), c.Name())
				}
				s.in = append(s.in, k)
				in = append(in, c)
			}
			s.add32 = isAdd32(n, in)
			width = max(width, len(s.in))
		}
		e.steps = append(e.steps, s)
	}
	e.args = make([]G.Value, 0, width)
	return e, nil
}

// run executes every op once, in order.
func (e *executor) run() error {
	for i := range e.steps {
		s := &e.steps[i]
		if s.op == nil {
			e.vals[s.out] = s.node.Value()
			continue
		}
		args := e.args[:0]
		for _, k := range s.in {
			args = append(args, e.vals[k])
		}
		var v G.Value
		var err error
		if prev := e.vals[s.out]; s.add32 && prev != nil {
			v, err = prev, add32(prev, args[0], args[1])
		} else if s.pd != nil && prev != nil {
			v, err = s.pd.UsePreallocDo(prev, args...)
		} else {
			v, err = s.op.Do(args...)
		}
		if err != nil {
			return fmt.Errorf("%v: %w", s.node.Name(), err)
		}
		e.vals[s.out] = v
	}
	return nil
}

// isAdd32 reports whether n, with inputs in, is gorgonia's + of two
// float32 tensors of n's shape.
func isAdd32(n *G.Node, in []*G.Node) bool {
	// An elemBinOp prints as its operator and its retSame flag ("+ false").
	if fmt.Sprintf("%T", n.Op()) != "gorgonia.elemBinOp" || !strings.HasPrefix(n.Op().String(), "+ ") || n.Dtype() != tensor.Float32 || n.Shape().IsScalar() {
		return false
	}
	return len(in) == 2 && in[0].Shape().Eq(n.Shape()) && in[1].Shape().Eq(n.Shape()) &&
		in[0].Dtype() == tensor.Float32 && in[1].Dtype() == tensor.Float32
}

// add32 writes a + b into out (float32 tensors of one size).
func add32(out, a, b G.Value) error {
	o, ok1 := out.(*tensor.Dense)
	x, ok2 := a.(*tensor.Dense)
	y, ok3 := b.(*tensor.Dense)
	if !ok1 || !ok2 || !ok3 || x.Size() != o.Size() || y.Size() != o.Size() {
		return fmt.Errorf("add: want three float32 tensors of one size, got %T %T %T", out, a, b)
	}
	ops.Add32(o.Float32s(), x.Float32s(), y.Float32s())
	return nil
}

// value is n's value as of the last run (overwritten by the next run).
func (e *executor) value(n *G.Node) G.Value {
	k, ok := e.index[n]
	if !ok {
		return nil
	}
	return e.vals[k]
}
