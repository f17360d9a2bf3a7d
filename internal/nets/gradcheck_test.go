package nets

import (
	"testing"

	"github.com/mksmt/workbench/internal/nets/nettest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// tinySwin is a float64 swin small enough for finite differences: 16×16
// images, patch 2 → 8×8 tokens in S1, 4×4 in S2; with window 2 both shift
// by 1 in their second block, with window 4 S1 shifts by 2. (Its S4 has one
// token, which Validate rejects for real runs; the layer tests use S1..S3.)
func tinySwin(t *testing.T, window int) *Model {
	t.Helper()
	a := Arch{Backbone: Swin, InChannels: 3, ImageSize: 16, Classes: 3, Depths: []int{2, 2, 1, 1},
		EmbedDim: 4, Heads: []int{1, 2, 2, 2}, Window: window, PatchSize: 2, MLPRatio: 2, HeadDim: 5}
	m := declare(a)
	m.Dtype = tensor.Float64
	allocate(m, 3)
	return m
}

// smallSwin is the smallest whole swin Validate accepts: 16×16 images,
// patch 1, window 2, so every stage has at least 2×2 tokens.
func smallSwin(t *testing.T) *Model {
	t.Helper()
	a := Arch{Backbone: Swin, InChannels: 3, ImageSize: 16, Classes: 3, Depths: []int{2, 2, 1, 1},
		EmbedDim: 4, Heads: []int{1, 2, 2, 2}, Window: 2, PatchSize: 1, MLPRatio: 2, HeadDim: 5}
	m, err := New(a, tensor.Float64, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func tinyResNet(t *testing.T) *Model {
	t.Helper()
	a := Arch{Backbone: ResNet, InChannels: 3, ImageSize: 8, Classes: 3, Depths: []int{1, 1, 1, 1},
		Widths: []int{2, 3, 4, 4}, HeadDim: 5}
	m, err := New(a, tensor.Float64, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// perturb gives every parameter a random offset, so that norms are not at
// their identity initialisation and biases are not zero.
func perturb(m *Model) {
	for i, p := range m.Params {
		r := nettest.Random(uint64(100+i), p.Shape...).Data().([]float64)
		v := p.Value.Data().([]float64)
		for j := range v {
			v[j] += 0.3 * r[j]
		}
	}
}

// layerCase checks f(x) with respect to x (unless noX) and the named
// parameters of m.
func layerCase(m *Model, mode Mode, batch int, x *tensor.Dense, noX bool, params []string,
	f func(b *builder, x *G.Node) *G.Node) nettest.Case {
	c := nettest.Case{}
	if noX {
		c.Const = []*tensor.Dense{x}
	} else {
		c.Inputs = []*tensor.Dense{x}
	}
	for _, name := range params {
		c.Inputs = append(c.Inputs, m.Param(name).Value)
	}
	c.Build = func(g *G.ExprGraph, in, consts []*G.Node) (*G.Node, error) {
		b := m.newBuilder(g, mode, batch)
		var xn *G.Node
		if noX {
			xn = consts[0]
		} else {
			xn, in = in[0], in[1:]
		}
		for k, name := range params {
			b.net.Params[m.index[name]] = in[k]
		}
		var out *G.Node
		err := b.catch(func() { out = f(b, xn) })
		return out, err
	}
	return c
}

func TestLayerGradients(t *testing.T) {
	sw, sw4, rn := tinySwin(t, 2), tinySwin(t, 4), tinyResNet(t)
	perturb(sw)
	perturb(sw4)
	perturb(rn)
	lin := func(name string, bias bool) []string {
		if bias {
			return []string{name + ".w", name + ".b"}
		}
		return []string{name + ".w"}
	}
	ln := func(name string) []string { return []string{name + ".g", name + ".b"} }
	cat := func(ss ...[]string) (out []string) {
		for _, s := range ss {
			out = append(out, s...)
		}
		return out
	}
	attn := func(pre string) []string {
		return cat(lin(pre+".q", true), lin(pre+".k", true), lin(pre+".v", true), lin(pre+".proj", true), []string{pre + ".rpb"})
	}
	// Swin S1: 8×8 tokens of 4 channels; S2: 4×4 tokens of 8 channels.
	cases := []struct {
		name string
		c    nettest.Case
	}{
		{"linear 2-D", layerCase(sw, Train, 2, nettest.Random(1, 6, 4), false, lin("s1.b0.mlp.fc1", true),
			func(b *builder, x *G.Node) *G.Node { return b.linear(x, "s1.b0.mlp.fc1", true) })},
		{"linear 3-D input", layerCase(sw, Train, 2, nettest.Random(2, 2, 5, 4), false, lin("s1.b0.mlp.fc1", true),
			func(b *builder, x *G.Node) *G.Node { return b.linear(x, "s1.b0.mlp.fc1", true) })},
		{"layer norm", layerCase(sw, Train, 2, nettest.Random(3, 2, 5, 4), false, ln("s1.b0.norm1"),
			func(b *builder, x *G.Node) *G.Node { return b.layerNorm(x, "s1.b0.norm1") })},
		{"gelu", layerCase(sw, Train, 2, nettest.Random(4, 3, 7), false, nil,
			func(b *builder, x *G.Node) *G.Node { return b.gelu(x) })},
		{"mean over tokens", layerCase(sw, Train, 2, nettest.Random(5, 2, 6, 3), false, nil,
			func(b *builder, x *G.Node) *G.Node { return b.meanTokens(x) })},
		{"patch embedding", layerCase(sw, Train, 2, nettest.Random(6, 2, 3, 16, 16), true, cat(lin("embed", true), ln("embed.norm")),
			func(b *builder, x *G.Node) *G.Node { return b.patchEmbed(x) })},
		{"patch merging", layerCase(sw, Train, 2, nettest.Random(7, 2, 64, 4), false, cat(ln("s2.merge.norm"), lin("s2.merge", false)),
			func(b *builder, x *G.Node) *G.Node { return b.patchMerge(x, 2) })},
		{"window attention", layerCase(sw, Train, 2, nettest.Random(8, 2, 16, 8), false, attn("s2.b0.attn"),
			func(b *builder, x *G.Node) *G.Node { return b.windowAttention(x, "s2.b0.attn", 4, 2, 0, 2) })},
		{"shifted window attention", layerCase(sw, Train, 2, nettest.Random(9, 2, 16, 8), false, attn("s2.b1.attn"),
			func(b *builder, x *G.Node) *G.Node { return b.windowAttention(x, "s2.b1.attn", 4, 2, 1, 2) })},
		{"shifted window attention, 8×8 tokens, window 4", layerCase(sw4, Train, 1, nettest.Random(10, 1, 64, 4), false, attn("s1.b1.attn"),
			func(b *builder, x *G.Node) *G.Node { return b.windowAttention(x, "s1.b1.attn", 8, 4, 2, 1) })},
		{"swin block", layerCase(sw, Train, 2, nettest.Random(11, 2, 16, 8), false, cat(ln("s2.b1.norm1"), ln("s2.b1.norm2"), lin("s2.b1.mlp.fc2", true)),
			func(b *builder, x *G.Node) *G.Node { return b.swinBlock(x, "s2.b1", 4, 2, 1, 2) })},
		{"swin OPM and output layer", layerCase(sw, Train, 2, nettest.Random(12, 2, 4, 16), false, cat(ln("h3.opm.norm"), lin("h3.opm.fc", true), lin("h3.out", true)),
			func(b *builder, x *G.Node) *G.Node { _, z := b.head(x, 3); return z })},
		{"conv 3×3 stride 1", layerCase(rn, Train, 2, nettest.Random(13, 2, 3, 4, 4), false, []string{"s2.b0.conv2"},
			func(b *builder, x *G.Node) *G.Node { return b.conv(x, "s2.b0.conv2", 1, 1, false) })},
		{"conv 3×3 stride 2", layerCase(rn, Train, 2, nettest.Random(14, 2, 2, 6, 6), false, []string{"s2.b0.conv1"},
			func(b *builder, x *G.Node) *G.Node { return b.conv(x, "s2.b0.conv1", 2, 1, false) })},
		{"conv 1×1 stride 2", layerCase(rn, Train, 2, nettest.Random(15, 2, 2, 6, 6), false, []string{"s2.b0.proj"},
			func(b *builder, x *G.Node) *G.Node { return b.conv(x, "s2.b0.proj", 2, 0, false) })},
		{"batch norm, training", layerCase(rn, Train, 3, nettest.Random(16, 3, 3, 2, 2), false, ln("s2.b0.bn1"),
			func(b *builder, x *G.Node) *G.Node { return b.batchNorm(x, "s2.b0.bn1", false) })},
		{"batch norm + ReLU, inference", layerCase(rn, Infer, 3, nettest.Random(17, 3, 3, 2, 2), false, ln("s2.b0.bn1"),
			func(b *builder, x *G.Node) *G.Node { return b.batchNorm(x, "s2.b0.bn1", true) })},
		{"resnet stage with projection", layerCase(rn, Train, 2, nettest.Random(18, 2, 3, 4, 4), false, cat([]string{"s3.b0.conv1", "s3.b0.proj"}, ln("s3.b0.bn2"), ln("s3.b0.projbn")),
			func(b *builder, x *G.Node) *G.Node { return b.resnetStage(x, 3) })},
		{"resnet OPM and output layer", layerCase(rn, Train, 2, nettest.Random(19, 2, 4, 2, 2), false, cat(ln("h4.opm.norm"), lin("h4.opm.fc", true), lin("h4.out", true)),
			func(b *builder, x *G.Node) *G.Node { _, z := b.head(x, 4); return z })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nettest.Expect(t, tc.c, 1e-4)
		})
	}
}
