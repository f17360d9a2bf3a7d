package nets

import (
	"fmt"
	"math"
	"testing"

	"github.com/mksmt/workbench/internal/nets/nettest"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// referenceWindowAttention is Swin's (shifted) window attention written as
// plain loops over tokens, without reshapes or transposes: token p sits at
// p−shift (mod side) in the rolled grid, attends to the tokens of its
// window there, with the relative position bias of the pair and −100
// between tokens from different regions of the rolled grid.
func referenceWindowAttention(m *Model, pre string, x []float64, n, side, c, win, shift, heads int) []float64 {
	val := func(name string) []float64 { return m.Param(pre + "." + name).Value.Data().([]float64) }
	lin := func(tok []float64, name string) []float64 {
		w, b := val(name+".w"), val(name+".b")
		out := append([]float64(nil), b...)
		for i := range c {
			for j := range c {
				out[j] += tok[i] * w[i*c+j]
			}
		}
		return out
	}
	rpb := val("rpb")
	hd := c / heads
	region := func(i int) int {
		if shift == 0 || i < side-win {
			return 0
		}
		if i < side-shift {
			return 1
		}
		return 2
	}
	mod := func(a int) int { return ((a % side) + side) % side }
	out := make([]float64, len(x))
	for img := range n {
		tok := func(r, col int) []float64 { i := (img*side*side + r*side + col) * c; return x[i : i+c] }
		for r := range side {
			for col := range side {
				rr, rc := mod(r-shift), mod(col-shift) // rolled position
				q := lin(tok(r, col), "q")
				o := make([]float64, c)
				for h := range heads {
					// keys: every token whose rolled position is in the same window
					var vs [][]float64
					var logits []float64
					for kr := rr / win * win; kr < rr/win*win+win; kr++ {
						for kc := rc / win * win; kc < rc/win*win+win; kc++ {
							or, oc := mod(kr+shift), mod(kc+shift) // original position
							k, v := lin(tok(or, oc), "k"), lin(tok(or, oc), "v")
							s := 0.0
							for d := range hd {
								s += q[h*hd+d] * k[h*hd+d]
							}
							s /= math.Sqrt(float64(hd))
							dr, dc := rr%win-kr%win+win-1, rc%win-kc%win+win-1
							s += rpb[(dr*(2*win-1)+dc)*heads+h]
							if 3*region(rr)+region(rc) != 3*region(kr)+region(kc) {
								s -= 100
							}
							logits = append(logits, s)
							vs = append(vs, v)
						}
					}
					mx := math.Inf(-1)
					for _, s := range logits {
						mx = math.Max(mx, s)
					}
					z := 0.0
					for _, s := range logits {
						z += math.Exp(s - mx)
					}
					for t, s := range logits {
						a := math.Exp(s-mx) / z
						for d := range hd {
							o[h*hd+d] += a * vs[t][h*hd+d]
						}
					}
				}
				copy(out[(img*side*side+r*side+col)*c:], lin(o, "proj"))
			}
		}
	}
	return out
}

func TestWindowAttentionMatchesReference(t *testing.T) {
	sw2, sw4 := tinySwin(t, 2), tinySwin(t, 4)
	perturb(sw2)
	perturb(sw4)
	for _, tc := range []struct {
		m                             *Model
		pre                           string
		side, c, win, shift, heads, n int
	}{
		{sw2, "s2.b0.attn", 4, 8, 2, 0, 2, 2},
		{sw2, "s2.b1.attn", 4, 8, 2, 1, 2, 2},
		{sw2, "s1.b1.attn", 8, 4, 2, 1, 1, 1},
		{sw4, "s1.b1.attn", 8, 4, 4, 2, 1, 2},
	} {
		t.Run(fmt.Sprintf("side %d window %d shift %d heads %d", tc.side, tc.win, tc.shift, tc.heads), func(t *testing.T) {
			x := nettest.Random(5, tc.n, tc.side*tc.side, tc.c)
			g := G.NewGraph()
			b := tc.m.newBuilder(g, Train, tc.n)
			xn := G.NewTensor(g, tensor.Float64, 3, G.WithShape(x.Shape()...), G.WithValue(x), G.WithName("x"))
			var out *G.Node
			if err := b.catch(func() { out = b.windowAttention(xn, tc.pre, tc.side, tc.win, tc.shift, tc.heads) }); err != nil {
				t.Fatal(err)
			}
			var got G.Value
			G.Read(out, &got)
			vm := G.NewTapeMachine(g)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			want := referenceWindowAttention(tc.m, tc.pre, x.Data().([]float64), tc.n, tc.side, tc.c, tc.win, tc.shift, tc.heads)
			gv := got.Data().([]float64)
			for i := range want {
				if math.Abs(gv[i]-want[i]) > 1e-9 {
					t.Fatalf("element %d: graph %.12g, reference %.12g", i, gv[i], want[i])
				}
			}
		})
	}
}
