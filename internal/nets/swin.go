package nets

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// swinStage builds stage i of DESIGN §2's swin on x: S1 starts with the
// patch embedding, S2..S4 with a patch merging; then Depths[i-1] blocks,
// every second one with shifted windows when the stage is larger than one
// window. Tokens are (N, H·W, C), row-major.
func (b *builder) swinStage(x *G.Node, i int) *G.Node {
	a := b.m.Arch
	if i == 1 {
		x = b.patchEmbed(x)
	} else {
		x = b.patchMerge(x, i)
	}
	side := a.StageSide(i)
	win, shifts := a.StageWindow(i)
	for blk := 0; blk < a.Depths[i-1]; blk++ {
		pre := fmt.Sprintf("s%d.b%d", i, blk)
		shift := 0
		if shifts && blk%2 == 1 {
			shift = win / 2
		}
		x = b.swinBlock(x, pre, side, win, shift, a.Heads[i-1])
	}
	return x
}

// patchEmbed cuts the image (N, C, S, S) into p×p patches, maps each
// (C·p·p values, channel-major like a p×p stride-p convolution) to
// EmbedDim features and normalises them: (N, (S/p)², EmbedDim).
func (b *builder) patchEmbed(x *G.Node) *G.Node {
	a := b.m.Arch
	n, p := b.batch, a.PatchSize
	g := a.ImageSize / p
	t := b.reshape(x, n, a.InChannels, g, p, g, p)
	t = b.do(G.Transpose(t, 0, 2, 4, 1, 3, 5))
	t = b.reshape(t, n*g*g, a.InChannels*p*p)
	t = b.layerNorm(b.linear(t, "embed", true), "embed.norm")
	return b.reshape(t, n, g*g, a.EmbedDim)
}

// patchMerge halves the token grid feeding stage i: each 2×2 group of
// tokens is concatenated (4C, in Swin's order), normalised and mapped to 2C.
func (b *builder) patchMerge(x *G.Node, i int) *G.Node {
	a := b.m.Arch
	n, c, side := b.batch, a.StageChannels(i-1), a.StageSide(i-1)
	h := side / 2
	// (N, h, dh, w, dw, C) → (N, h, w, dw, dh, C): concat order
	// (0,0), (1,0), (0,1), (1,1) in (dh, dw), as Swin's x0..x3.
	t := b.reshape(x, n, h, 2, h, 2, c)
	t = b.do(G.Transpose(t, 0, 1, 3, 4, 2, 5))
	t = b.reshape(t, n, h*h, 4*c)
	return b.linear(b.layerNorm(t, fmt.Sprintf("s%d.merge.norm", i)), fmt.Sprintf("s%d.merge", i), false)
}

// swinBlock is x + attn(LN(x)), then x + MLP(LN(x)) (pre-norm).
func (b *builder) swinBlock(x *G.Node, pre string, side, win, shift, heads int) *G.Node {
	h := b.windowAttention(b.layerNorm(x, pre+".norm1"), pre+".attn", side, win, shift, heads)
	x = b.do(G.Add(x, h))
	h = b.linear(b.gelu(b.linear(b.layerNorm(x, pre+".norm2"), pre+".mlp.fc1", true)), pre+".mlp.fc2", true)
	return b.do(G.Add(x, h))
}

// windowAttention is (shifted) window multi-head self-attention with a
// learned relative position bias, on tokens (N, side², C).
func (b *builder) windowAttention(x *G.Node, pre string, side, win, shift, heads int) *G.Node {
	n, c := b.batch, x.Shape()[2]
	hd := c / heads
	nw := (side / win) * (side / win) // windows per image
	w2 := win * win                   // tokens per window
	bw := n * nw                      // windows in the batch

	t := b.reshape(x, n, side, side, c)
	if shift > 0 {
		t = b.roll(b.roll(t, 1, shift), 2, shift)
	}
	t = b.windowPartition(t, side, win)

	split := func(v *G.Node) *G.Node { // (bw·w2, C) → (bw·heads, w2, hd)
		v = b.reshape(v, bw, w2, heads, hd)
		if heads > 1 {
			v = b.do(G.Transpose(v, 0, 2, 1, 3))
		}
		return b.reshape(v, bw*heads, w2, hd)
	}
	q := split(b.do(G.Mul(b.linear(t, pre+".q", true), b.scalar(1/math.Sqrt(float64(hd))))))
	k := split(b.linear(t, pre+".k", true))
	v := split(b.linear(t, pre+".v", true))

	s := b.do(G.BatchedMatMul(q, k, false, true)) // (bw·heads, w2, w2)
	b.count(bw * heads * w2 * w2 * hd)

	// + relative position bias (heads, w2, w2), + the shift mask (nw, w2, w2).
	bias := b.relativeBias(pre+".rpb", win, heads) // (heads·w2·w2)
	if shift > 0 {
		mask := b.shiftMask(side, win, shift, heads) // (nw, heads·w2·w2)
		add := b.reshape(b.addBias(mask, bias), nw*heads*w2*w2)
		s = b.addBias(s, add) // the same for every image
	} else {
		s = b.addBias(s, bias) // the same for every window
	}
	attn := b.do(G.SoftMax(s))

	o := b.do(G.BatchedMatMul(attn, v)) // (bw·heads, w2, hd)
	b.count(bw * heads * w2 * w2 * hd)
	if heads > 1 {
		o = b.reshape(o, bw, heads, w2, hd)
		o = b.do(G.Transpose(o, 0, 2, 1, 3))
	}
	o = b.linear(b.reshape(o, bw*w2, c), pre+".proj", true)

	o = b.windowReverse(o, side, win, c)
	if shift > 0 {
		o = b.roll(b.roll(o, 1, side-shift), 2, side-shift)
	}
	return b.reshape(o, n, side*side, c)
}

// roll shifts t (N, H, W, C) cyclically by −k along axis (1 or 2):
// out[i] = t[(i+k) mod size].
func (b *builder) roll(t *G.Node, axis, k int) *G.Node {
	shape := t.Shape().Clone()
	size := shape[axis]
	part := func(lo, hi int) *G.Node {
		sl := make([]tensor.Slice, axis+1)
		sl[axis] = G.S(lo, hi)
		p := b.do(G.Slice(t, sl...))
		want := shape.Clone()
		want[axis] = hi - lo
		if !p.Shape().Eq(want) { // a slice of width 1 drops its axis
			p = b.reshape(p, want...)
		}
		return p
	}
	return b.do(G.Concat(axis, part(k, size), part(0, k)))
}

// windowPartition maps (N, side, side, C) to windows (N·nw·win², C),
// windows in row-major order, tokens row-major inside each window.
func (b *builder) windowPartition(t *G.Node, side, win int) *G.Node {
	n, c, g := b.batch, t.Shape()[3], side/win
	t = b.reshape(t, n, g, win, g, win, c)
	t = b.do(G.Transpose(t, 0, 1, 3, 2, 4, 5))
	return b.reshape(t, n*g*g*win*win, c)
}

// windowReverse is windowPartition's inverse: (N·nw·win², C) → (N, side, side, C).
func (b *builder) windowReverse(t *G.Node, side, win, c int) *G.Node {
	n, g := b.batch, side/win
	t = b.reshape(t, n, g, g, win, win, c)
	t = b.do(G.Transpose(t, 0, 1, 3, 2, 4, 5))
	return b.reshape(t, n, side, side, c)
}

// relativeBias gathers the table pre ((2win−1)², heads) into the bias of
// every (query, key) pair of a window, flattened as (heads·win²·win²).
func (b *builder) relativeBias(name string, win, heads int) *G.Node {
	w2, r := win*win, 2*win-1
	index := make([]int, w2*w2)
	for i := 0; i < w2; i++ {
		for j := 0; j < w2; j++ {
			dr, dc := i/win-j/win+win-1, i%win-j%win+win-1
			index[i*w2+j] = dr*r + dc
		}
	}
	return b.do(G.ApplyOp(&gatherOp{fusedBase: fusedBase{"gather " + name}, index: index, heads: heads}, b.param(name)))
}

// shiftMask is Swin's attention mask for shifted windows: −100 between two
// tokens of one window that came from different regions of the rolled
// image, 0 otherwise; (nw, heads·win²·win²), the same for every head.
func (b *builder) shiftMask(side, win, shift, heads int) *G.Node {
	key := fmt.Sprintf("mask.s%d.w%d.sh%d.h%d", side, win, shift, heads)
	if m, ok := b.consts[key]; ok {
		return m
	}
	region := func(i int) int {
		switch {
		case i < side-win:
			return 0
		case i < side-shift:
			return 1
		}
		return 2
	}
	g, w2 := side/win, win*win
	vals := make([]float64, g*g*heads*w2*w2)
	for wr := 0; wr < g; wr++ {
		for wc := 0; wc < g; wc++ {
			label := func(t int) int { return 3*region(wr*win+t/win) + region(wc*win+t%win) }
			base := (wr*g + wc) * heads * w2 * w2
			for h := 0; h < heads; h++ {
				for i := 0; i < w2; i++ {
					for j := 0; j < w2; j++ {
						if label(i) != label(j) {
							vals[base+(h*w2+i)*w2+j] = -100
						}
					}
				}
			}
		}
	}
	m := b.constant(key, vals, g*g, heads*w2*w2)
	b.consts[key] = m
	return m
}
