package ops

import (
	"math"

	"github.com/mksmt/workbench/internal/ops/vec"
)

// maskPositive sets out[j] = v[j] where y[j] > 0 and 0 elsewhere: the
// backward pass of a ReLU given its output y. It has no data-dependent
// branch (ReLU masks are close to random, so a branch would mispredict
// about half the time): the sign test is done on the bits.
func maskPositive[T float](y, v, out []T) {
	switch yy := any(y).(type) {
	case []float32:
		vv, oo := any(v).([]float32), any(out).([]float32)
		k := vec.MaskPositive(yy, vv, oo)
		yy, vv, oo = yy[k:], vv[k:], oo[k:]
		vv, oo = vv[:len(yy)], oo[:len(yy)]
		for j, yj := range yy {
			b := int32(math.Float32bits(yj))
			// All ones iff b > 0 as a signed integer, i.e. y > +0.
			m := uint32((-b)>>31) &^ uint32(b>>31)
			oo[j] = math.Float32frombits(math.Float32bits(vv[j]) & m)
		}
	case []float64:
		vv, oo := any(v).([]float64), any(out).([]float64)
		vv, oo = vv[:len(yy)], oo[:len(yy)]
		for j, yj := range yy {
			b := int64(math.Float64bits(yj))
			m := uint64((-b)>>63) &^ uint64(b>>63)
			oo[j] = math.Float64frombits(math.Float64bits(vv[j]) & m)
		}
	}
}
