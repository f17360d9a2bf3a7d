package nets

import (
	"fmt"

	"github.com/mksmt/workbench/internal/ops"
	G "gorgonia.org/gorgonia"
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
	t := b.do(ops.Patches(x, b.m.Arch.PatchSize, b.sh))
	// The image is data: no gradient with respect to the patches.
	return b.layerNorm(b.linearOpt(t, "embed", true, true), "embed.norm")
}

// patchMerge halves the token grid feeding stage i: each 2×2 group of
// tokens is concatenated (4C, in Swin's order), normalised and mapped to 2C.
func (b *builder) patchMerge(x *G.Node, i int) *G.Node {
	t := b.do(ops.PatchMerge(x, b.m.Arch.StageSide(i-1), b.sh))
	return b.linear(b.layerNorm(t, fmt.Sprintf("s%d.merge.norm", i)), fmt.Sprintf("s%d.merge", i), false)
}

// swinBlock is x + attn(LN(x)), then x + MLP(LN(x)) (pre-norm).
func (b *builder) swinBlock(x *G.Node, pre string, side, win, shift, heads int) *G.Node {
	h := b.windowAttention(b.layerNorm(x, pre+".norm1"), pre+".attn", side, win, shift, heads)
	x = b.do(ops.Add(x, h, b.sh))
	h = b.linear(b.gelu(b.linear(b.layerNorm(x, pre+".norm2"), pre+".mlp.fc1", true)), pre+".mlp.fc2", true)
	return b.do(ops.Add(x, h, b.sh))
}

// windowAttention is (shifted) window multi-head self-attention with a
// learned relative position bias, on tokens (N, side², C): the q, k, v
// and output projections are per-token linear layers in image order; the
// cyclic shift, the window partition, the attention itself and their
// inverses are one op (ops.WindowAttention).
func (b *builder) windowAttention(x *G.Node, pre string, side, win, shift, heads int) *G.Node {
	n, c := b.batch, x.Shape()[2]
	hd := c / heads
	w2 := win * win
	q := b.linear(x, pre+".q", true)
	k := b.linear(x, pre+".k", true)
	v := b.linear(x, pre+".v", true)
	o := b.do(ops.WindowAttention(q, k, v, b.param(pre+".rpb"), side, win, shift, heads, b.sh))
	b.count(2 * n * side * side * w2 * hd * heads) // QKᵀ and P·V
	return b.linear(o, pre+".proj", true)
}
