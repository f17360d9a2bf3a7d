package nets

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/nets/nettest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func TestArchValidate(t *testing.T) {
	ok := DefaultArch(Swin, 10)
	for _, tc := range []struct {
		name string
		edit func(a *Arch)
		want string // substring of the error; "" = valid
	}{
		{"default swin", func(a *Arch) {}, ""},
		{"default resnet", func(a *Arch) { *a = DefaultArch(ResNet, 10) }, ""},
		{"unknown backbone", func(a *Arch) { a.Backbone = "vgg" }, `backbone = "vgg"`},
		{"three depths", func(a *Arch) { a.Depths = []int{2, 2, 6} }, "depths = [2 2 6]"},
		{"heads do not divide", func(a *Arch) { a.Heads = []int{3, 2, 4, 8} }, "not divisible by 3 heads"},
		{"image not a multiple", func(a *Arch) { a.ImageSize = 24 }, "image_size = 24"},
		{"window does not tile", func(a *Arch) { a.Window = 3 }, "window = 3"},
		{"one class", func(a *Arch) { a.Classes = 1 }, "classes = 1"},
		{"resnet without widths", func(a *Arch) { *a = DefaultArch(ResNet, 10); a.Widths = nil }, "widths = []"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := ok
			a.Depths, a.Heads = slices.Clone(ok.Depths), slices.Clone(ok.Heads)
			tc.edit(&a)
			err := a.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestBuildShapesAndParameterUse(t *testing.T) {
	for _, backbone := range []string{ResNet, Swin} {
		t.Run(backbone, func(t *testing.T) {
			m, err := New(DefaultArch(backbone, 7), tensor.Float32, 1)
			if err != nil {
				t.Fatal(err)
			}
			full, err := m.Build(G.NewGraph(), Spec{Mode: Train, Batch: 2, UpTo: 4, Heads: []int{2, 3, 4}})
			if err != nil {
				t.Fatal(err)
			}
			for j, n := range full.Params {
				if n == nil {
					t.Errorf("full build does not read %s", m.Params[j].Name)
				}
			}
			for i := 1; i <= 4; i++ {
				l := StageLayout(m.Arch, i)
				want := tensor.Shape{2, l.C, l.H, l.W}
				if l.Tokens {
					want = tensor.Shape{2, l.H * l.W, l.C}
				}
				if got := full.Stages[i].Shape(); !got.Eq(want) {
					t.Errorf("S%d: shape %v, want %v", i, got, want)
				}
			}
			for h := 2; h <= 4; h++ {
				if got := full.Z[h].Shape(); !got.Eq(tensor.Shape{2, 7}) {
					t.Errorf("z%d: shape %v", h, got)
				}
				if got := full.F[h].Shape(); !got.Eq(tensor.Shape{2, 128}) {
					t.Errorf("f%d: shape %v", h, got)
				}
			}

			// A forward to S3 with S3's head never reads S4 or the other heads.
			part, err := m.Build(G.NewGraph(), Spec{Mode: Train, Batch: 2, UpTo: 3, Heads: []int{3}})
			if err != nil {
				t.Fatal(err)
			}
			for j, n := range part.Params {
				p := m.Params[j]
				want := (p.Stage >= 1 && p.Stage <= 3) || p.Head == 3
				if (n != nil) != want {
					t.Errorf("UpTo 3, head 3: reads %s = %v, want %v", p.Name, n != nil, want)
				}
			}
		})
	}
}

// A forward pass must leave its inputs and the parameters unchanged and give
// the same output twice (gorgonia ops that write into an aliased input
// would break both).
func TestForwardIsPureAndRepeatable(t *testing.T) {
	for _, m := range []*Model{smallSwin(t), tinyResNet(t)} {
		t.Run(m.Arch.Backbone, func(t *testing.T) {
			perturb(m)
			before := make([][]float64, len(m.Params))
			for j, p := range m.Params {
				before[j] = slices.Clone(p.Value.Data().([]float64))
			}
			net, err := m.Build(G.NewGraph(), Spec{Mode: Infer, Batch: 2, UpTo: 4, Heads: []int{2, 3, 4}})
			if err != nil {
				t.Fatal(err)
			}
			copy(net.XValue.Data().([]float64), nettest.Random(1, net.XValue.Shape()...).Data().([]float64))
			x0 := slices.Clone(net.XValue.Data().([]float64))
			var z G.Value
			G.Read(net.Z[4], &z)
			vm := G.NewTapeMachine(net.G)
			defer vm.Close()
			var outs [][]float64
			for range 2 {
				vm.Reset()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				outs = append(outs, slices.Clone(z.Data().([]float64)))
			}
			if !slices.Equal(outs[0], outs[1]) {
				t.Errorf("two runs differ: %v vs %v", outs[0], outs[1])
			}
			if !slices.Equal(x0, net.XValue.Data().([]float64)) {
				t.Error("the forward pass changed its input images")
			}
			for j, p := range m.Params {
				if !slices.Equal(before[j], p.Value.Data().([]float64)) {
					t.Errorf("the forward pass changed %s", p.Name)
				}
			}
			for _, v := range outs[0] {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("logits not finite: %v", outs[0])
				}
			}
		})
	}
}

// Whole networks: the gradient of the S3 and S4 logits with respect to
// parameters from every stage and head.
func TestNetworkGradients(t *testing.T) {
	for _, tc := range []struct {
		m      *Model
		params []string
	}{
		{smallSwin(t), []string{"embed.norm.g", "s1.b1.attn.rpb", "s2.merge.norm.b", "s3.b0.norm2.g", "s4.b0.attn.v.b", "h3.opm.norm.b", "h4.out.b"}},
		{tinyResNet(t), []string{"stem.bn.g", "s1.b0.bn2.b", "s2.b0.projbn.g", "s3.b0.bn1.b", "s4.b0.conv2", "h3.opm.fc.b", "h4.out.b"}},
	} {
		t.Run(tc.m.Arch.Backbone, func(t *testing.T) {
			perturb(tc.m)
			x := nettest.Random(3, 2, 3, tc.m.Arch.ImageSize, tc.m.Arch.ImageSize)
			c := layerCase(tc.m, Train, 2, x, true, tc.params, func(b *builder, x *G.Node) *G.Node {
				b.net.X = x
				for i := 1; i <= 4; i++ {
					if tc.m.Arch.Backbone == Swin {
						x = b.swinStage(x, i)
					} else {
						x = b.resnetStage(x, i)
					}
					b.net.Stages[i] = x
				}
				_, z3 := b.head(b.net.Stages[3], 3)
				_, z4 := b.head(b.net.Stages[4], 4)
				return b.do(G.Concat(1, z3, z4))
			})
			nettest.Expect(t, c, 1e-4)
		})
	}
}

func TestInitIsSeeded(t *testing.T) {
	a := DefaultArch(ResNet, 5)
	m1, _ := New(a, tensor.Float32, 7)
	m2, _ := New(a, tensor.Float32, 7)
	m3, _ := New(a, tensor.Float32, 8)
	w := func(m *Model) []float32 { return m.Param("s3.b1.conv1").Value.Data().([]float32) }
	if !slices.Equal(w(m1), w(m2)) {
		t.Error("same seed, different weights")
	}
	if slices.Equal(w(m1), w(m3)) {
		t.Error("different seeds, same weights")
	}
}
