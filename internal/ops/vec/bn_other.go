//go:build !amd64

package vec

// SumShifted does nothing off amd64: the caller computes every value.
func SumShifted(x []float32, k float32) (n int, s1, s2 [8]float32) { return }

// DotSums does nothing off amd64: the caller computes every value.
func DotSums(x, g []float32, mean float32) (n int, a, b [8]float32) { return }

// GradSumsReLU does nothing off amd64: the caller computes every value.
func GradSumsReLU(x, y, dy, g []float32, mean float32) (n int, a, b [8]float32) { return }

// Affine does nothing off amd64: the caller computes every value.
func Affine(x, y []float32, sc, sh float32) int { return 0 }

// AffineReLU does nothing off amd64: the caller computes every value.
func AffineReLU(x, y []float32, sc, sh float32) int { return 0 }

// BNDx does nothing off amd64: the caller computes every value.
func BNDx(x, g, d []float32, kk, aa, bb float32) int { return 0 }

// MaskPositive does nothing off amd64: the caller computes every value.
func MaskPositive(y, v, out []float32) int { return 0 }

// AddReLU does nothing off amd64: the caller computes every value.
func AddReLU(a, b, y []float32) int { return 0 }
