package train

import (
	"github.com/mksmt/workbench/internal/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The losses, as gorgonia nodes. Each is a scalar averaged over the batch.
// They use LogSoftMax and Exp only: gorgonia merges SoftMax and LogSoftMax
// nodes of one input into one (DESIGN §6).

// chain applies gorgonia operations, keeping the first error.
type chain struct{ err error }

func (c *chain) do(n *G.Node, err error) *G.Node {
	if err != nil && c.err == nil {
		c.err = err
	}
	if c.err != nil {
		return nil
	}
	return n
}

// scalarLike is a constant scalar of x's dtype.
func scalarLike(x *G.Node, v float64) *G.Node {
	if x.Dtype() == tensor.Float32 {
		return G.NewConstant(float32(v))
	}
	return G.NewConstant(v)
}

// crossEntropy is −(1/N)·Σ targets ⊙ log softmax(z), for logits z (N, K)
// and target distributions (N, K): one-hot, or label-smoothed.
func crossEntropy(z, targets *G.Node) (*G.Node, error) {
	var c chain
	n := z.Shape()[0]
	s := c.do(G.Sum(c.do(G.HadamardProd(c.do(G.LogSoftMax(z)), targets))))
	if c.err != nil {
		return nil, c.err
	}
	return c.do(G.Mul(s, scalarLike(z, -1/float64(n)))), c.err
}

// kdForm is the form of a distillation loss where DESIGN §1 infers it;
// the zero value is the default (T² factor, detached teacher).
type kdForm struct {
	noT2     bool // kd_scale_t2 = false: no T² factor
	attached bool // kd_detach = false: the gradient also reaches the teacher
}

func kdFormOf(c Config) kdForm {
	return kdForm{noT2: !c.ScaleKDByT2(), attached: !c.DetachTeacher()}
}

// teacherNode is the teacher's side of a KD loss: detached (by default) or
// the node itself.
func (f kdForm) teacherNode(teacher *G.Node) (*G.Node, error) {
	if f.attached {
		return teacher, nil
	}
	return ops.StopGradient(teacher)
}

// decisionKD is T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)), averaged over the
// batch, with the teacher's logits z_t detached: no gradient reaches the
// teacher. form drops the T² factor or the detachment.
func decisionKD(student, teacher *G.Node, temp float64, form kdForm) (*G.Node, error) {
	var c chain
	n := student.Shape()[0]
	inv := func(x *G.Node) *G.Node {
		if temp == 1 {
			return x
		}
		return c.do(G.Mul(x, scalarLike(x, 1/temp)))
	}
	lt := c.do(G.LogSoftMax(inv(c.do(form.teacherNode(teacher)))))
	ls := c.do(G.LogSoftMax(inv(student)))
	if c.err != nil {
		return nil, c.err
	}
	kl := c.do(G.Sum(c.do(G.HadamardProd(c.do(G.Exp(lt)), c.do(G.Sub(lt, ls))))))
	if c.err != nil {
		return nil, c.err
	}
	scale := temp * temp
	if form.noT2 {
		scale = 1
	}
	return c.do(G.Mul(kl, scalarLike(student, scale/float64(n)))), c.err
}

// featureKD is the mean squared difference between the student's and the
// detached teacher's OPM outputs (N, K); form.attached keeps the teacher
// attached.
func featureKD(student, teacher *G.Node, form kdForm) (*G.Node, error) {
	var c chain
	size := student.Shape().TotalSize()
	d := c.do(G.Sub(student, c.do(form.teacherNode(teacher))))
	s := c.do(G.Sum(c.do(G.Square(d))))
	if c.err != nil {
		return nil, c.err
	}
	return c.do(G.Mul(s, scalarLike(student, 1/float64(size)))), c.err
}
