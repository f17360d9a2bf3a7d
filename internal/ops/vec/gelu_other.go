//go:build !amd64

package vec

// HasAVX2FMA is false off amd64.
const HasAVX2FMA = false

// GELU does nothing off amd64: the caller computes every value.
func GELU(x, out []float32) int { return 0 }

// GELUDiff does nothing off amd64: the caller computes every value.
func GELUDiff(x, dy, out []float32) int { return 0 }
