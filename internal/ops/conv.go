package ops

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Conv2d convolves x (N,C,H,W) with w (O,C,KH,KW) into (N,O,H',W'), with
// symmetric zero padding pad, stride stride and no bias. H' =
// (H+2·pad−KH)/stride+1, likewise W'. noInputGrad marks a convolution whose
// input needs no gradient (the stem, reading the image).
func Conv2d(x, w *gorgonia.Node, stride, pad int, noInputGrad bool) (*gorgonia.Node, error) {
	xs, ws := x.Shape(), w.Shape()
	if xs.Dims() != 4 || ws.Dims() != 4 {
		return nil, fmt.Errorf("conv2d of %v with %v: shapes %v and %v, want (N,C,H,W) and (O,C,KH,KW)", x.Name(), w.Name(), xs, ws)
	}
	if xs[1] != ws[1] {
		return nil, fmt.Errorf("conv2d of %v with %v: x has %d channels, w expects %d", x.Name(), w.Name(), xs[1], ws[1])
	}
	if stride < 1 || pad < 0 {
		return nil, fmt.Errorf("conv2d of %v with %v: stride %d, pad %d: want stride ≥ 1, pad ≥ 0", x.Name(), w.Name(), stride, pad)
	}
	if xs[2]+2*pad < ws[2] || xs[3]+2*pad < ws[3] {
		return nil, fmt.Errorf("conv2d of %v with %v: kernel %dx%d larger than the padded input %dx%d", x.Name(), w.Name(), ws[2], ws[3], xs[2]+2*pad, xs[3]+2*pad)
	}
	n, err := gorgonia.Conv2d(x, w, tensor.Shape{ws[2], ws[3]}, []int{pad, pad}, []int{stride, stride}, []int{1, 1})
	if err != nil {
		return nil, fmt.Errorf("conv2d of %v with %v: %w", x.Name(), w.Name(), err)
	}
	return n, nil
}
