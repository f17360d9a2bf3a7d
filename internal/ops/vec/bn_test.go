package vec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The Go expressions the kernels must reproduce. Explicit float32
// conversions keep the compiler from fusing a product and a sum into one
// FMA (as it may with GOAMD64=v3), which the kernels never do.

func relu32(v float32) float32 {
	b := math.Float32bits(v)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

func pos(y float32) bool { return int32(math.Float32bits(y)) > 0 }

func maskBits(y, v float32) float32 {
	if pos(y) {
		return v
	}
	return 0
}

// refLanes accumulates u(i) in a and v(i) in b for i < n in the kernels'
// lanes: pair p = (i/8)%2, lane l = i%8, then lane l = pair 0 + pair 1.
func refLanes(n int, f func(i int) (u, v float32)) (a, b [8]float32) {
	var pa, pb [2][8]float32
	for i := range n {
		p, l := (i/8)%2, i%8
		u, v := f(i)
		pa[p][l] += u
		pb[p][l] += v
	}
	for l := range 8 {
		a[l] = pa[0][l] + pa[1][l]
		b[l] = pb[0][l] + pb[1][l]
	}
	return a, b
}

var (
	negNaN = math.Float32frombits(0xffc00123)
	posNaN = math.Float32frombits(0x7fc00321)
	negZ   = float32(math.Copysign(0, -1))
	inf    = float32(math.Inf(1))
	// finite specials: both zeros and the smallest denormals
	finiteSpecials = []float32{0, negZ, 1e-45, -1e-45, 1.2e-38, -3e-39}
	infSpecials    = append([]float32{inf, -inf, 3e38, -3e38}, finiteSpecials...)
	nanSpecials    = append([]float32{posNaN, negNaN}, infSpecials...)
	lengths        = []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 1000, 1024}
)

// gen returns n values, about a quarter of them from specials, the others
// about off ± scale.
func gen(r *rand.Rand, n int, specials []float32, off, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		if len(specials) > 0 && r.IntN(4) == 0 {
			x[i] = specials[r.IntN(len(specials))]
		} else {
			x[i] = float32(off + scale*r.NormFloat64())
		}
	}
	return x
}

func fill(n int, v float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = v
	}
	return x
}

const sentinel = float32(-12345.5)

func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// checkOut compares out with want on [0, n) bit for bit and checks that
// out kept the sentinel from n on.
func checkOut(t *testing.T, what string, out []float32, n int, want func(i int) float32) {
	t.Helper()
	for i := range out {
		w := sentinel
		if i < n {
			w = want(i)
		}
		if !sameBits(out[i], w) {
			t.Fatalf("%s: [%d] = %g (%#08x), want %g (%#08x)", what, i, out[i], math.Float32bits(out[i]), w, math.Float32bits(w))
		}
	}
}

func checkLanes(t *testing.T, what string, got, want [8]float32) {
	t.Helper()
	for l := range 8 {
		if !sameBits(got[l], want[l]) {
			t.Fatalf("%s: lane %d = %g (%#08x), want %g (%#08x)", what, l, got[l], math.Float32bits(got[l]), want[l], math.Float32bits(want[l]))
		}
	}
}

// checkF64 checks Σ lanes (in float64) against the float64 sum of term
// within 1e-4 of Σ|term| (relative to the sum of magnitudes: Σ(x−mean) is
// near 0 by design).
func checkF64(t *testing.T, what string, lanes [8]float32, n int, term func(i int) float64) {
	t.Helper()
	var got, want, mag float64
	for _, v := range lanes {
		got += float64(v)
	}
	for i := range n {
		v := term(i)
		want += v
		mag += math.Abs(v)
	}
	if math.Abs(got-want) > 1e-4*mag+1e-37 {
		t.Fatalf("%s: Σ lanes = %g, float64 sum %g (Σ|·| %g)", what, got, want, mag)
	}
}

func skipNoAVX2(t *testing.T) {
	if !HasAVX2FMA {
		t.Skip("no AVX2/FMA: the kernels do nothing")
	}
}

func TestSumShifted(t *testing.T) {
	skipNoAVX2(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, mode := range []string{"finite", "inf"} {
		for _, m := range lengths {
			sp := finiteSpecials
			if mode == "inf" {
				sp = infSpecials
			}
			x := gen(r, m, sp, 3, 2)
			k := float32(2.75)
			what := fmt.Sprintf("SumShifted %s len %d", mode, m)
			n, s1, s2 := SumShifted(x, k)
			if n != m&^7 {
				t.Fatalf("%s: did %d", what, n)
			}
			w1, w2 := refLanes(n, func(i int) (float32, float32) {
				d := x[i] - k
				return d, float32(d * d)
			})
			checkLanes(t, what+" s1", s1, w1)
			checkLanes(t, what+" s2", s2, w2)
			if mode == "finite" {
				checkF64(t, what+" s1", s1, n, func(i int) float64 { return float64(x[i]) - float64(k) })
				checkF64(t, what+" s2", s2, n, func(i int) float64 { d := float64(x[i]) - float64(k); return d * d })
			}
		}
	}
}

func TestDotSums(t *testing.T) {
	skipNoAVX2(t)
	r := rand.New(rand.NewPCG(3, 4))
	for _, mode := range []string{"finite", "inf"} {
		for _, m := range lengths {
			sp := finiteSpecials
			if mode == "inf" {
				sp = infSpecials
			}
			x := gen(r, m+5, sp, 1, 3) // longer than g
			g := gen(r, m, sp, 0, 1)
			mean := float32(0.875)
			what := fmt.Sprintf("DotSums %s len %d", mode, m)
			n, a, b := DotSums(x, g, mean)
			if n != m&^7 {
				t.Fatalf("%s: did %d", what, n)
			}
			wa, wb := refLanes(n, func(i int) (float32, float32) {
				return g[i], float32(g[i] * (x[i] - mean))
			})
			checkLanes(t, what+" a", a, wa)
			checkLanes(t, what+" b", b, wb)
			if mode == "finite" {
				checkF64(t, what+" a", a, n, func(i int) float64 { return float64(g[i]) })
				checkF64(t, what+" b", b, n, func(i int) float64 { return float64(g[i]) * (float64(x[i]) - float64(mean)) })
			}
		}
	}
}

func TestGradSumsReLU(t *testing.T) {
	skipNoAVX2(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, mode := range []string{"finite", "inf", "nan"} {
		for _, m := range lengths {
			sp := finiteSpecials
			switch mode {
			case "inf":
				sp = infSpecials
			case "nan":
				sp = nanSpecials
			}
			x := gen(r, m+3, sp, 1, 3)
			y := gen(r, m+5, nanSpecials, 0, 1) // the mask: NaNs of both signs
			dy := gen(r, m, sp, 0, 1)
			g := fill(m+2, sentinel)
			mean := float32(-0.625)
			if mode == "nan" {
				x = gen(r, m+3, infSpecials, 1, 3) // NaNs only in dy: see below
			}
			what := fmt.Sprintf("GradSumsReLU %s len %d", mode, m)
			n, a, b := GradSumsReLU(x, y, dy, g, mean)
			if n != m&^7 {
				t.Fatalf("%s: did %d", what, n)
			}
			checkOut(t, what+" g", g, n, func(i int) float32 { return maskBits(y[i], dy[i]) })
			if mode == "nan" {
				// Sums of NaNs with different payloads depend on the
				// operand order Go's compiler picks: only g is checked.
				continue
			}
			wa, wb := refLanes(n, func(i int) (float32, float32) {
				gi := maskBits(y[i], dy[i])
				return gi, float32(gi * (x[i] - mean))
			})
			checkLanes(t, what+" a", a, wa)
			checkLanes(t, what+" b", b, wb)
			if mode == "finite" {
				gi := func(i int) float64 { return float64(maskBits(y[i], dy[i])) }
				checkF64(t, what+" a", a, n, gi)
				checkF64(t, what+" b", b, n, func(i int) float64 { return gi(i) * (float64(x[i]) - float64(mean)) })
			}
		}
	}
}

// TestElementwise checks the elementwise kernels bit for bit, with NaNs in
// one operand (two NaN operands give the payload of whichever the compiler
// puts first).
func TestElementwise(t *testing.T) {
	skipNoAVX2(t)
	r := rand.New(rand.NewPCG(7, 8))
	const sc, sh = float32(1.7), float32(-0.3)
	const kk, aa, bb = float32(0.37), float32(-1.3), float32(0.21)
	for _, m := range lengths {
		x := gen(r, m, nanSpecials, 0, 2)
		x2 := gen(r, m+4, infSpecials, 0, 2)
		y := gen(r, m, nanSpecials, 0, 1)
		v := gen(r, m+3, nanSpecials, 0, 1)
		mustDo := func(what string, n int) {
			t.Helper()
			if n != m&^7 {
				t.Fatalf("%s len %d: did %d", what, m, n)
			}
		}
		what := fmt.Sprintf("len %d: ", m)

		out := fill(m+2, sentinel)
		mustDo("Affine", Affine(x, out, sc, sh))
		checkOut(t, what+"Affine", out, m&^7, func(i int) float32 { return float32(x[i]*sc) + sh })

		out = fill(m+2, sentinel)
		mustDo("AffineReLU", AffineReLU(x, out, sc, sh))
		checkOut(t, what+"AffineReLU", out, m&^7, func(i int) float32 { return relu32(float32(x[i]*sc) + sh) })

		out = fill(m+2, sentinel)
		mustDo("BNDx", BNDx(x2[:m], append(x, 1), out, kk, aa, bb)) // g = x: NaNs in g
		checkOut(t, what+"BNDx", out, m&^7, func(i int) float32 { return float32(kk*x[i]) + float32(aa*x2[i]) + bb })

		out = fill(m+2, sentinel)
		mustDo("MaskPositive", MaskPositive(y, v, out))
		checkOut(t, what+"MaskPositive", out, m&^7, func(i int) float32 { return maskBits(y[i], v[i]) })

		out = fill(m+2, sentinel)
		mustDo("AddReLU", AddReLU(x, x2, out))
		checkOut(t, what+"AddReLU", out, m&^7, func(i int) float32 { return relu32(x[i] + x2[i]) })
		out = fill(m+2, sentinel)
		mustDo("AddReLU", AddReLU(x2[:m], x, out))
		checkOut(t, what+"AddReLU (b has NaNs)", out, m&^7, func(i int) float32 { return relu32(x2[i] + x[i]) })
	}
}

// TestRelu32Edges pins the ReLU on the edge cases: −0 and negative NaNs
// become +0, positive NaNs stay.
func TestRelu32Edges(t *testing.T) {
	skipNoAVX2(t)
	in := []float32{negZ, 0, -1e-45, 1e-45, -inf, inf, negNaN, posNaN}
	want := []float32{0, 0, 0, 1e-45, 0, inf, 0, posNaN}
	zero := make([]float32, 8)
	out := make([]float32, 8)
	AddReLU(in, zero, out)
	for i := range want {
		if !sameBits(out[i], want[i]) {
			t.Errorf("AddReLU(%g, 0) = %#08x, want %#08x", in[i], math.Float32bits(out[i]), math.Float32bits(want[i]))
		}
	}
	mask := make([]float32, 8)
	MaskPositive(in, fill(8, 1), mask)
	for i, w := range []float32{0, 0, 0, 1, 0, 1, 0, 1} {
		if mask[i] != w {
			t.Errorf("MaskPositive: y = %#08x gives %g, want %g", math.Float32bits(in[i]), mask[i], w)
		}
	}
}

// TestAliasing runs each kernel in place and compares with a separate
// output.
func TestAliasing(t *testing.T) {
	skipNoAVX2(t)
	r := rand.New(rand.NewPCG(9, 10))
	const sc, sh = float32(0.9), float32(0.1)
	const kk, aa, bb = float32(1.1), float32(0.4), float32(-0.2)
	clone := func(s []float32) []float32 { return append([]float32(nil), s...) }
	eq := func(what string, got, want []float32) {
		t.Helper()
		for i := range len(want) &^ 7 { // the caller does the rest
			if !sameBits(got[i], want[i]) {
				t.Fatalf("%s: [%d] = %g in place, %g apart", what, i, got[i], want[i])
			}
		}
	}
	for _, m := range []int{8, 24, 33, 1000, 1024} {
		x := gen(r, m, infSpecials, 0, 2)
		a := gen(r, m, infSpecials, 0, 2)
		y := gen(r, m, nanSpecials, 0, 1)
		what := fmt.Sprintf("len %d: ", m)

		for _, relu := range []bool{false, true} {
			f := Affine
			if relu {
				f = AffineReLU
			}
			want, got := make([]float32, m), clone(x)
			f(x, want, sc, sh)
			f(got, got, sc, sh)
			eq(fmt.Sprintf("%sAffine (relu %v) y = x", what, relu), got, want)
		}

		want, got := make([]float32, m), clone(a)
		MaskPositive(y, a, want)
		MaskPositive(y, got, got)
		eq(what+"MaskPositive out = v", got, want)

		want = make([]float32, m)
		AddReLU(a, x, want)
		got = clone(a)
		AddReLU(got, x, got)
		eq(what+"AddReLU y = a", got, want)
		got = clone(x)
		AddReLU(a, got, got)
		eq(what+"AddReLU y = b", got, want)

		want, got = make([]float32, m), clone(a)
		BNDx(x, a, want, kk, aa, bb)
		BNDx(x, got, got, kk, aa, bb)
		eq(what+"BNDx d = g", got, want)

		want, got = make([]float32, m), clone(a)
		_, wa, wb := GradSumsReLU(x, y, a, want, 0.5)
		_, ga, gb := GradSumsReLU(x, y, got, got, 0.5)
		eq(what+"GradSumsReLU g = dy", got, want)
		if ga != wa && !(hasNaN(ga) || hasNaN(wa)) || gb != wb && !(hasNaN(gb) || hasNaN(wb)) {
			t.Fatalf("%sGradSumsReLU g = dy: sums %v %v in place, %v %v apart", what, ga, gb, wa, wb)
		}
	}
}

func hasNaN(v [8]float32) bool {
	for _, f := range v {
		if f != f {
			return true
		}
	}
	return false
}

// The pure Go loops of package ops, for comparison.

func goSumShifted(x []float32, k float32) (float64, float64) {
	var a0, a1, a2, a3, b0, b1, b2, b3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		d0, d1, d2, d3 := v[0]-k, v[1]-k, v[2]-k, v[3]-k
		a0 += d0
		a1 += d1
		a2 += d2
		a3 += d3
		b0 += d0 * d0
		b1 += d1 * d1
		b2 += d2 * d2
		b3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := x[i] - k
		a0 += d
		b0 += d * d
	}
	return float64(a0+a1) + float64(a2+a3), float64(b0+b1) + float64(b2+b3)
}

func goGradSumsReLU(x, y, dy, g []float32, mean float32) (float64, float64) {
	n := len(dy)
	x, y, g = x[:n], y[:n], g[:n]
	var a0, a1, b0, b1 float32
	i := 0
	for ; i+2 <= n; i += 2 {
		y0, y1 := int32(math.Float32bits(y[i])), int32(math.Float32bits(y[i+1]))
		m0 := uint32((-y0)>>31) &^ uint32(y0>>31)
		m1 := uint32((-y1)>>31) &^ uint32(y1>>31)
		g0 := math.Float32frombits(math.Float32bits(dy[i]) & m0)
		g1 := math.Float32frombits(math.Float32bits(dy[i+1]) & m1)
		g[i], g[i+1] = g0, g1
		a0 += g0
		a1 += g1
		b0 += g0 * (x[i] - mean)
		b1 += g1 * (x[i+1] - mean)
	}
	for ; i < n; i++ {
		y0 := int32(math.Float32bits(y[i]))
		m0 := uint32((-y0)>>31) &^ uint32(y0>>31)
		g0 := math.Float32frombits(math.Float32bits(dy[i]) & m0)
		g[i] = g0
		a0 += g0
		b0 += g0 * (x[i] - mean)
	}
	return float64(a0) + float64(a1), float64(b0) + float64(b1)
}

func goAffineReLU(x, y []float32, sc, sh float32) {
	y = y[:len(x)]
	for j, v := range x {
		y[j] = relu32(v*sc + sh)
	}
}

func goBNDx(x, g, d []float32, kk, aa, bb float32) {
	g, d = g[:len(x)], d[:len(x)]
	for j, v := range x {
		d[j] = kk*g[j] + aa*v + bb
	}
}

var sink float64

// BenchmarkBN times the kernels and ops's Go loops on 32768 values (128 KiB
// a slice); the MB/s count every byte read and written.
func BenchmarkBN(b *testing.B) {
	const m = 32768
	r := rand.New(rand.NewPCG(11, 12))
	x, y, dy := gen(r, m, nil, 0.5, 1), gen(r, m, nil, 0, 1), gen(r, m, nil, 0, 1)
	g, out := make([]float32, m), make([]float32, m)
	asm := func(b *testing.B) {
		if !HasAVX2FMA {
			b.Skip("no AVX2/FMA")
		}
	}
	b.Run("SumShifted/go", func(b *testing.B) {
		b.SetBytes(4 * m)
		for range b.N {
			s, _ := goSumShifted(x, 0.4)
			sink += s
		}
	})
	b.Run("SumShifted/asm", func(b *testing.B) {
		asm(b)
		b.SetBytes(4 * m)
		for range b.N {
			_, s, _ := SumShifted(x, 0.4)
			sink += float64(s[0])
		}
	})
	b.Run("GradSumsReLU/go", func(b *testing.B) {
		b.SetBytes(16 * m)
		for range b.N {
			s, _ := goGradSumsReLU(x, y, dy, g, 0.4)
			sink += s
		}
	})
	b.Run("GradSumsReLU/asm", func(b *testing.B) {
		asm(b)
		b.SetBytes(16 * m)
		for range b.N {
			_, s, _ := GradSumsReLU(x, y, dy, g, 0.4)
			sink += float64(s[0])
		}
	})
	b.Run("AffineReLU/go", func(b *testing.B) {
		b.SetBytes(8 * m)
		for range b.N {
			goAffineReLU(x, out, 1.3, -0.2)
		}
	})
	b.Run("AffineReLU/asm", func(b *testing.B) {
		asm(b)
		b.SetBytes(8 * m)
		for range b.N {
			AffineReLU(x, out, 1.3, -0.2)
		}
	})
	b.Run("BNDx/go", func(b *testing.B) {
		b.SetBytes(12 * m)
		for range b.N {
			goBNDx(x, dy, out, 1.3, -0.2, 0.1)
		}
	})
	b.Run("BNDx/asm", func(b *testing.B) {
		asm(b)
		b.SetBytes(12 * m)
		for range b.N {
			BNDx(x, dy, out, 1.3, -0.2, 0.1)
		}
	})
}
