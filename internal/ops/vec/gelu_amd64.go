package vec

// The transformer MLP's GELU, 8 float32 lanes at a time with AVX2 and FMA
// (gelu_amd64.s): Φ by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7),
// exp(−x²/2) by Cephes expf's range reduction and polynomial, as the pure
// Go version in ops (gelu32). In pure Go the two GELU passes took a third of
// a swin training batch's CPU time.

//go:noescape
func geluAVX2(x, out *float32, n int)

//go:noescape
func geluDiffAVX2(x, dy, out *float32, n int)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv0() (eax uint32)

// HasAVX2FMA reports whether the CPU and the OS support AVX2 and FMA.
var HasAVX2FMA = func() bool {
	max, _, _, _ := cpuid(0, 0)
	if max < 7 {
		return false
	}
	_, _, c1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if c1&(fma|osxsave|avx) != fma|osxsave|avx || xgetbv0()&6 != 6 { // XMM and YMM state
		return false
	}
	_, b7, _, _ := cpuid(7, 0)
	return b7&(1<<5) != 0 // AVX2
}()

// GELU sets out[i] = x[i]·Φ(x[i]) on the longest multiple-of-8 prefix of x
// when the CPU has AVX2 and FMA, and returns its length (0 otherwise).
func GELU(x, out []float32) int {
	n := len(x) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0
	}
	_ = out[n-1]
	geluAVX2(&x[0], &out[0], n)
	return n
}

// GELUDiff sets out[i] = dy[i]·(Φ(x[i]) + x[i]·φ(x[i])) like GELU.
func GELUDiff(x, dy, out []float32) int {
	n := len(x) &^ 7
	if !HasAVX2FMA || n == 0 {
		return 0
	}
	_, _ = dy[n-1], out[n-1]
	geluDiffAVX2(&x[0], &dy[0], &out[0], n)
	return n
}
