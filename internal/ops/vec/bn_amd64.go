package vec

// Batch normalisation's and ReLU's float32 loops, 8 lanes at a time with
// AVX2 (bn_amd64.s). Each kernel does the longest multiple-of-8 prefix of
// its primary slice and returns its length (0 without AVX2 and FMA); the
// caller does the rest in Go. Elementwise kernels multiply and add in
// separate, separately rounded instructions (no FMA), so their outputs are
// bit-identical to the Go expressions compiled without fused multiply-add
// (GOAMD64 below v3). An output may be the same slice as an input where the
// doc comment says so (exact aliasing only, not partial overlap).
//
// The reductions keep two pairs of accumulators of 8 lanes: pair A takes
// the values at i ≡ l (mod 16), pair B those at i ≡ l+8 (mod 16), each
// accumulated in float32 from +0 in order of increasing i; lane l of a
// result is A[l] + B[l], rounded to float32 once. The result depends only
// on the inputs.

//go:noescape
func sumShiftedAVX2(x *float32, n int, k float32, s1, s2 *[8]float32)

//go:noescape
func dotSumsAVX2(x, gv *float32, n int, mean float32, a, b *[8]float32)

//go:noescape
func gradSumsReLUAVX2(x, y, dy, gv *float32, n int, mean float32, a, b *[8]float32)

//go:noescape
func affineAVX2(x, y *float32, n int, sc, sh float32)

//go:noescape
func affineReLUAVX2(x, y *float32, n int, sc, sh float32)

//go:noescape
func bnDxAVX2(x, gv, d *float32, n int, kk, aa, bb float32)

//go:noescape
func maskPositiveAVX2(y, v, out *float32, n int)

//go:noescape
func addReLUAVX2(a, b, y *float32, n int)

// SumShifted accumulates, over x[:n] with n = len(x)&^7, d = x[i]−k in s1
// and d·d in s2 (VMULPS then VADDPS, no FMA), in the lanes described above:
// s1[l] = A[l] + B[l] with A[l] = Σ_{i≡l (mod 16)} (x[i]−k) and
// B[l] = Σ_{i≡l+8 (mod 16)} (x[i]−k), and the same for s2 with (x[i]−k)².
func SumShifted(x []float32, k float32) (n int, s1, s2 [8]float32) {
	n = len(x) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0, s1, s2
	}
	sumShiftedAVX2(&x[0], n, k, &s1, &s2)
	return n, s1, s2
}

// DotSums accumulates, over i < n = len(g)&^7, g[i] in a and
// g[i]·(x[i]−mean) in b (x[i]−mean rounded, then the product rounded, then
// added), in the lanes described above. x may be longer than g.
func DotSums(x, g []float32, mean float32) (n int, a, b [8]float32) {
	n = len(g) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0, a, b
	}
	_ = x[n-1]
	dotSumsAVX2(&x[0], &g[0], n, mean, &a, &b)
	return n, a, b
}

// GradSumsReLU sets g[i] = dy[i] where int32(bits of y[i]) > 0 (y > +0, and
// positive NaNs), else +0, for i < n = len(dy)&^7, and accumulates those
// g[i] in a and g[i]·(x[i]−mean) in b like DotSums. g may be dy.
func GradSumsReLU(x, y, dy, g []float32, mean float32) (n int, a, b [8]float32) {
	n = len(dy) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0, a, b
	}
	_, _, _ = x[n-1], y[n-1], g[n-1]
	gradSumsReLUAVX2(&x[0], &y[0], &dy[0], &g[0], n, mean, &a, &b)
	return n, a, b
}

// Affine sets y[i] = x[i]·sc + sh (product rounded, then the sum) for
// i < len(x)&^7 and returns that length. y may be x.
func Affine(x, y []float32, sc, sh float32) int {
	n := len(x) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0
	}
	_ = y[n-1]
	affineAVX2(&x[0], &y[0], n, sc, sh)
	return n
}

// AffineReLU sets y[i] = relu32(x[i]·sc + sh), the sign bit clearing
// negative results and −0 (NaNs with it set too), for i < len(x)&^7 and
// returns that length. y may be x.
func AffineReLU(x, y []float32, sc, sh float32) int {
	n := len(x) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0
	}
	_ = y[n-1]
	affineReLUAVX2(&x[0], &y[0], n, sc, sh)
	return n
}

// BNDx sets d[i] = (kk·g[i] + aa·x[i]) + bb, each product and sum rounded,
// for i < len(x)&^7 and returns that length. d may be g (or x).
func BNDx(x, g, d []float32, kk, aa, bb float32) int {
	n := len(x) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0
	}
	_, _ = g[n-1], d[n-1]
	bnDxAVX2(&x[0], &g[0], &d[0], n, kk, aa, bb)
	return n
}

// MaskPositive sets out[i] = v[i] where int32(bits of y[i]) > 0 (y > +0,
// and positive NaNs), else +0, for i < len(y)&^7 and returns that length.
// out may be v (or y).
func MaskPositive(y, v, out []float32) int {
	n := len(y) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0
	}
	_, _ = v[n-1], out[n-1]
	maskPositiveAVX2(&y[0], &v[0], &out[0], n)
	return n
}

// AddReLU sets y[i] = relu32(a[i] + b[i]) for i < len(a)&^7 and returns
// that length. y may be a or b.
func AddReLU(a, b, y []float32) int {
	n := len(a) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0
	}
	_, _ = b[n-1], y[n-1]
	addReLUAVX2(&a[0], &b[0], &y[0], n)
	return n
}
