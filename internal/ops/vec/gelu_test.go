package vec

import (
	"math"
	"testing"
)

// TestGELU compares the kernels with float64 GELU and its derivative over
// [−12, 12], including the values past the exp clamp and both signs of 0.
func TestGELU(t *testing.T) {
	if !HasAVX2FMA {
		t.Skip("no AVX2/FMA: the kernels do nothing")
	}
	var x, dy []float32
	for v := -12.0; v <= 12; v += 0.0007 {
		x = append(x, float32(v))
		dy = append(dy, float32(1+v/24))
	}
	x = append(x, 0, float32(math.Copysign(0, -1)))
	dy = append(dy, 1, 1)
	y, d := make([]float32, len(x)), make([]float32, len(x))
	n := GELU(x, y)
	if n != len(x)&^7 || GELUDiff(x, dy, d) != n {
		t.Fatalf("did %d of %d values", n, len(x))
	}
	for i, v := range x[:n] {
		f := float64(v)
		phi := 0.5 * (1 + math.Erf(f/math.Sqrt2))
		wantY := f * phi
		wantD := float64(dy[i]) * (phi + f*math.Exp(-0.5*f*f)/math.Sqrt(2*math.Pi))
		if math.Abs(float64(y[i])-wantY) > 1e-6*max(1, math.Abs(wantY)) {
			t.Fatalf("GELU(%g) = %g, want %g", f, y[i], wantY)
		}
		if math.Abs(float64(d[i])-wantD) > 1e-6*max(1, math.Abs(wantD)) {
			t.Fatalf("GELU'(%g)·%g = %g, want %g", f, dy[i], d[i], wantD)
		}
	}
}
