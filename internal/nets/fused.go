package nets

import (
	"fmt"
	"hash"
	"hash/fnv"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Fused operations for the transformer's small layers. Composed from
// gorgonia built-ins, a LayerNorm is a dozen nodes with four broadcasts
// (each a materialised Repeat), a bias add one more Repeat, and a GELU
// eight element-wise nodes, all allocating on every run; these ops do each
// in one pass over buffers they own. Each works on any rank, over the last
// axis, in float32 and float64, and is checked against finite differences
// by the layer tests.

type float interface{ ~float32 | ~float64 }

// fusedBase is the part of the gorgonia Op interface every fused op shares.
// WriteHash includes the op's address: ops keep per-run state, so two nodes
// must never be merged into one.
type fusedBase struct{ name string }

func (b *fusedBase) ReturnsPtr() bool     { return false }
func (b *fusedBase) CallsExtern() bool    { return false }
func (b *fusedBase) OverwritesInput() int { return -1 }
func (b *fusedBase) String() string       { return b.name }

// fusedBase is embedded first in every op, so b's address is the op's.
func (b *fusedBase) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s %p", b.name, b) }

func (b *fusedBase) Hashcode() uint32 {
	h := fnv.New32a()
	b.WriteHash(h)
	return h.Sum32()
}

func tensorOf(dims int) G.TensorType { return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')} }

// buf is an output or workspace tensor an op owns.
type buf struct{ t *tensor.Dense }

func (b *buf) get(dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if b.t == nil || b.t.Dtype() != dt || !b.t.Shape().Eq(shape) {
		b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
	}
	return b.t
}

// denseIn returns input i as a contiguous *tensor.Dense.
func denseIn(op fmt.Stringer, vs []G.Value, i int) (*tensor.Dense, error) {
	d, ok := vs[i].(*tensor.Dense)
	if !ok {
		return nil, fmt.Errorf("%v: input %d is %T, want *tensor.Dense", op, i, vs[i])
	}
	if d.RequiresIterator() {
		d = d.Materialize().(*tensor.Dense)
	}
	return d, nil
}

// getterOp returns a gradient another op's backward pass computed as a
// by-product (a gorgonia op has one output). Its input is that op's main
// output, which orders it after the computation.
type getterOp struct {
	fusedBase
	src    *buf
	inDims int
	shape  tensor.Shape
}

func (op *getterOp) Arity() int { return 1 }
func (op *getterOp) Type() hm.Type {
	return hm.NewFnType(tensorOf(op.inDims), tensorOf(op.shape.Dims()))
}
func (op *getterOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *getterOp) DiffWRT(int) []bool                             { return []bool{false} }
func (op *getterOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%v: no second derivative", op)
}
func (op *getterOp) Do(...G.Value) (G.Value, error) {
	if op.src.t == nil {
		return nil, fmt.Errorf("%v: the backward pass has not run", op)
	}
	return op.src.t, nil
}

// ---- LayerNorm ---------------------------------------------------------

// layerNormOp normalises x over its last axis (ε = 1e-5) and applies γ, β.
type layerNormOp struct {
	fusedBase
	dims int
	out  buf
}

func (op *layerNormOp) Arity() int { return 3 }
func (op *layerNormOp) Type() hm.Type {
	return hm.NewFnType(tensorOf(op.dims), tensorOf(1), tensorOf(1), tensorOf(op.dims))
}
func (op *layerNormOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *layerNormOp) DiffWRT(int) []bool { return []bool{true, true, true} }

func (op *layerNormOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseIn(op, vs, 0)
	if err != nil {
		return nil, err
	}
	g, b := vs[1].(*tensor.Dense), vs[2].(*tensor.Dense)
	y := op.out.get(x.Dtype(), x.Shape())
	switch xd := x.Data().(type) {
	case []float32:
		lnForward(xd, g.Data().([]float32), b.Data().([]float32), y.Data().([]float32))
	case []float64:
		lnForward(xd, g.Data().([]float64), b.Data().([]float64), y.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: dtype %v", op, x.Dtype())
	}
	return y, nil
}

const lnEps = 1e-5

// lnStats is the mean and 1/σ of one row, in float64.
func lnStats[T float](row []T) (mean, rstd float64) {
	for _, v := range row {
		mean += float64(v)
	}
	mean /= float64(len(row))
	var v2 float64
	for _, v := range row {
		d := float64(v) - mean
		v2 += d * d
	}
	return mean, 1 / math.Sqrt(v2/float64(len(row))+lnEps)
}

func lnForward[T float](x, g, b, y []T) {
	c := len(g)
	for r := 0; r < len(x)/c; r++ {
		row, out := x[r*c:(r+1)*c], y[r*c:(r+1)*c]
		mean, rstd := lnStats(row)
		for i, v := range row {
			out[i] = T((float64(v)-mean)*rstd)*g[i] + b[i]
		}
	}
}

// SymDiff builds dx = lnDiff(x, γ, dy) and getters for dγ and dβ.
func (op *layerNormOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	diff := &layerNormDiffOp{fusedBase: fusedBase{op.name + "-diff"}, dims: op.dims}
	dx, err := G.ApplyOp(diff, in[0], in[1], grad)
	if err != nil {
		return nil, err
	}
	cs := tensor.Shape{in[1].Shape()[0]}
	dg, err := G.ApplyOp(&getterOp{fusedBase{op.name + "-dgamma"}, &diff.dg, op.dims, cs}, dx)
	if err != nil {
		return nil, err
	}
	db, err := G.ApplyOp(&getterOp{fusedBase{op.name + "-dbeta"}, &diff.db, op.dims, cs}, dx)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx, dg, db}, nil
}

type layerNormDiffOp struct {
	fusedBase
	dims       int
	dx, dg, db buf
}

func (op *layerNormDiffOp) Arity() int { return 3 }
func (op *layerNormDiffOp) Type() hm.Type {
	return hm.NewFnType(tensorOf(op.dims), tensorOf(1), tensorOf(op.dims), tensorOf(op.dims))
}
func (op *layerNormDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *layerNormDiffOp) DiffWRT(int) []bool { return []bool{false, false, false} }
func (op *layerNormDiffOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%v: no second derivative", op)
}

func (op *layerNormDiffOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseIn(op, vs, 0)
	if err != nil {
		return nil, err
	}
	dy, err := denseIn(op, vs, 2)
	if err != nil {
		return nil, err
	}
	g := vs[1].(*tensor.Dense)
	dt, cs := x.Dtype(), g.Shape()
	dx, dg, db := op.dx.get(dt, x.Shape()), op.dg.get(dt, cs), op.db.get(dt, cs)
	switch xd := x.Data().(type) {
	case []float32:
		lnBackward(xd, g.Data().([]float32), dy.Data().([]float32), dx.Data().([]float32), dg.Data().([]float32), db.Data().([]float32))
	case []float64:
		lnBackward(xd, g.Data().([]float64), dy.Data().([]float64), dx.Data().([]float64), dg.Data().([]float64), db.Data().([]float64))
	}
	return dx, nil
}

// lnBackward: with x̂ = (x−μ)·r and h = dy·γ, dx = r·(h − mean(h) − x̂·mean(h·x̂));
// dγ = Σ_rows dy·x̂, dβ = Σ_rows dy.
func lnBackward[T float](x, g, dy, dx, dg, db []T) {
	c := len(g)
	clear(dg)
	clear(db)
	for r := 0; r < len(x)/c; r++ {
		row, d, out := x[r*c:(r+1)*c], dy[r*c:(r+1)*c], dx[r*c:(r+1)*c]
		mean, rstd := lnStats(row)
		var sh, shx float64
		for i, v := range row {
			xh := (float64(v) - mean) * rstd
			h := float64(d[i]) * float64(g[i])
			sh += h
			shx += h * xh
			dg[i] += T(float64(d[i]) * xh)
			db[i] += d[i]
		}
		sh /= float64(c)
		shx /= float64(c)
		for i, v := range row {
			xh := (float64(v) - mean) * rstd
			out[i] = T(rstd * (float64(d[i])*float64(g[i]) - sh - xh*shx))
		}
	}
}

// ---- bias add ----------------------------------------------------------

// biasAddOp is x + b, with b's values added along x's last axes:
// x viewed as (rows, len(b)).
type biasAddOp struct {
	fusedBase
	dims int
	out  buf
}

func (op *biasAddOp) Arity() int { return 2 }
func (op *biasAddOp) Type() hm.Type {
	return hm.NewFnType(tensorOf(op.dims), tensorOf(1), tensorOf(op.dims))
}
func (op *biasAddOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *biasAddOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op *biasAddOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseIn(op, vs, 0)
	if err != nil {
		return nil, err
	}
	b, err := denseIn(op, vs, 1)
	if err != nil {
		return nil, err
	}
	y := op.out.get(x.Dtype(), x.Shape())
	switch xd := x.Data().(type) {
	case []float32:
		addRows(xd, b.Data().([]float32), y.Data().([]float32))
	case []float64:
		addRows(xd, b.Data().([]float64), y.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: dtype %v", op, x.Dtype())
	}
	return y, nil
}

func addRows[T float](x, b, y []T) {
	c := len(b)
	for r := 0; r < len(x)/c; r++ {
		xs, ys := x[r*c:(r+1)*c], y[r*c:(r+1)*c]
		for i, v := range xs {
			ys[i] = v + b[i]
		}
	}
}

// SymDiff: dx = dy; db = the column sums of dy.
func (op *biasAddOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	db, err := G.ApplyOp(&colSumOp{fusedBase: fusedBase{op.name + "-dbias"}, dims: op.dims, c: in[1].Shape()[0]}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{grad, db}, nil
}

// colSumOp sums x, viewed as (rows, c), over its rows.
type colSumOp struct {
	fusedBase
	dims, c int
	out     buf
}

func (op *colSumOp) Arity() int    { return 1 }
func (op *colSumOp) Type() hm.Type { return hm.NewFnType(tensorOf(op.dims), tensorOf(1)) }
func (op *colSumOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.c}, nil
}
func (op *colSumOp) DiffWRT(int) []bool { return []bool{false} }
func (op *colSumOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%v: no second derivative", op)
}

func (op *colSumOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseIn(op, vs, 0)
	if err != nil {
		return nil, err
	}
	y := op.out.get(x.Dtype(), tensor.Shape{op.c})
	switch xd := x.Data().(type) {
	case []float32:
		sumRows(xd, y.Data().([]float32))
	case []float64:
		sumRows(xd, y.Data().([]float64))
	}
	return y, nil
}

func sumRows[T float](x, y []T) {
	c := len(y)
	clear(y)
	for r := 0; r < len(x)/c; r++ {
		for i, v := range x[r*c : (r+1)*c] {
			y[i] += v
		}
	}
}

// ---- GELU --------------------------------------------------------------

// geluOp is GELU(x) = x·Φ(x) (the exact, erf form), element-wise.
type geluOp struct {
	fusedBase
	dims int
	out  buf
}

func (op *geluOp) Arity() int    { return 1 }
func (op *geluOp) Type() hm.Type { return hm.NewFnType(tensorOf(op.dims), tensorOf(op.dims)) }
func (op *geluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *geluOp) DiffWRT(int) []bool { return []bool{true} }

func (op *geluOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseIn(op, vs, 0)
	if err != nil {
		return nil, err
	}
	y := op.out.get(x.Dtype(), x.Shape())
	switch xd := x.Data().(type) {
	case []float32:
		geluForward(xd, y.Data().([]float32))
	case []float64:
		geluForward(xd, y.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: dtype %v", op, x.Dtype())
	}
	return y, nil
}

func geluForward[T float](x, y []T) {
	fast := isF32(x)
	for i, v := range x {
		f := float64(v)
		y[i] = T(f * phi(f, math.Exp(-0.5*f*f), fast))
	}
}

func isF32[T float](_ []T) bool {
	var z T
	_, ok := any(z).(float32)
	return ok
}

// phi is Φ(x), the standard normal CDF, given e = exp(−x²/2). In float64
// (gradient checks) it is exact; in float32 it uses Abramowitz & Stegun
// 7.1.26 for erf (absolute error < 1.5e-7, below float32's resolution),
// which reuses e instead of calling math.Erf.
func phi(x, e float64, fast bool) float64 {
	if !fast {
		return 0.5 * (1 + math.Erf(x/math.Sqrt2))
	}
	z := math.Abs(x) / math.Sqrt2
	t := 1 / (1 + 0.3275911*z)
	poly := t * (0.254829592 + t*(-0.284496736+t*(1.421413741+t*(-1.453152027+t*1.061405429))))
	erf := 1 - poly*e // e = exp(−z²)
	if x < 0 {
		erf = -erf
	}
	return 0.5 * (1 + erf)
}

func (op *geluOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(&geluDiffOp{fusedBase: fusedBase{op.name + "-diff"}, dims: op.dims}, in[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

// geluDiffOp is dy·(Φ(x) + x·φ(x)).
type geluDiffOp struct {
	fusedBase
	dims int
	out  buf
}

func (op *geluDiffOp) Arity() int { return 2 }
func (op *geluDiffOp) Type() hm.Type {
	return hm.NewFnType(tensorOf(op.dims), tensorOf(op.dims), tensorOf(op.dims))
}
func (op *geluDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	return in[0].(tensor.Shape).Clone(), nil
}
func (op *geluDiffOp) DiffWRT(int) []bool { return []bool{false, false} }
func (op *geluDiffOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%v: no second derivative", op)
}

func (op *geluDiffOp) Do(vs ...G.Value) (G.Value, error) {
	x, err := denseIn(op, vs, 0)
	if err != nil {
		return nil, err
	}
	dy, err := denseIn(op, vs, 1)
	if err != nil {
		return nil, err
	}
	dx := op.out.get(x.Dtype(), x.Shape())
	switch xd := x.Data().(type) {
	case []float32:
		geluBackward(xd, dy.Data().([]float32), dx.Data().([]float32))
	case []float64:
		geluBackward(xd, dy.Data().([]float64), dx.Data().([]float64))
	}
	return dx, nil
}

func geluBackward[T float](x, dy, dx []T) {
	const invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
	fast := isF32(x)
	for i, v := range x {
		f := float64(v)
		e := math.Exp(-0.5 * f * f)
		dx[i] = T(float64(dy[i]) * (phi(f, e, fast) + f*invSqrt2Pi*e))
	}
}

// ---- gather ------------------------------------------------------------

// gatherOp reads a table (R, H) at fixed rows: out[h·len(index)+i] =
// table[index[i], h]. Swin's relative position bias is this gather; its
// gradient scatter-adds into the table.
type gatherOp struct {
	fusedBase
	index []int
	heads int
	out   buf
}

func (op *gatherOp) Arity() int    { return 1 }
func (op *gatherOp) Type() hm.Type { return hm.NewFnType(tensorOf(2), tensorOf(1)) }
func (op *gatherOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape{op.heads * len(op.index)}, nil
}
func (op *gatherOp) DiffWRT(int) []bool { return []bool{true} }

func (op *gatherOp) Do(vs ...G.Value) (G.Value, error) {
	t, err := denseIn(op, vs, 0)
	if err != nil {
		return nil, err
	}
	y := op.out.get(t.Dtype(), tensor.Shape{op.heads * len(op.index)})
	switch td := t.Data().(type) {
	case []float32:
		gather(td, op.index, op.heads, y.Data().([]float32))
	case []float64:
		gather(td, op.index, op.heads, y.Data().([]float64))
	default:
		return nil, fmt.Errorf("%v: dtype %v", op, t.Dtype())
	}
	return y, nil
}

func gather[T float](table []T, index []int, heads int, out []T) {
	n := len(index)
	for h := range heads {
		for i, r := range index {
			out[h*n+i] = table[r*heads+h]
		}
	}
}

func (op *gatherOp) SymDiff(in G.Nodes, _, grad *G.Node) (G.Nodes, error) {
	d, err := G.ApplyOp(&scatterOp{fusedBase: fusedBase{op.name + "-diff"}, fwd: op, shape: in[0].Shape().Clone()}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{d}, nil
}

// scatterOp is gatherOp's gradient: the table-shaped sum of dy at each row.
type scatterOp struct {
	fusedBase
	fwd   *gatherOp
	shape tensor.Shape
	out   buf
}

func (op *scatterOp) Arity() int                                     { return 1 }
func (op *scatterOp) Type() hm.Type                                  { return hm.NewFnType(tensorOf(1), tensorOf(2)) }
func (op *scatterOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op *scatterOp) DiffWRT(int) []bool                             { return []bool{false} }
func (op *scatterOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, fmt.Errorf("%v: no second derivative", op)
}

func (op *scatterOp) Do(vs ...G.Value) (G.Value, error) {
	dy, err := denseIn(op, vs, 0)
	if err != nil {
		return nil, err
	}
	d := op.out.get(dy.Dtype(), op.shape)
	switch g := dy.Data().(type) {
	case []float32:
		scatter(g, op.fwd.index, op.fwd.heads, d.Data().([]float32))
	case []float64:
		scatter(g, op.fwd.index, op.fwd.heads, d.Data().([]float64))
	}
	return d, nil
}

func scatter[T float](dy []T, index []int, heads int, table []T) {
	clear(table)
	n := len(index)
	for h := range heads {
		for i, r := range index {
			table[r*heads+h] += dy[h*n+i]
		}
	}
}
