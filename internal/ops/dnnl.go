package ops

/*
#cgo LDFLAGS: -ldnnl -lgomp
#include <stdlib.h>
#include <oneapi/dnnl/dnnl.h>
#include "dnnl_conv.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// Float32 convolutions run on oneDNN (the library PyTorch's CPU
// convolutions use): its AVX-512 kernels, measured on the reference layers
// single-threaded at batch 32, need 7 ms forward and 16 ms backward where
// im2col + OpenBLAS need 24 and 48 CPU-ms. Float64 (the gradient checks)
// stays on the OpenBLAS kernels in conv.go, which are also the reference
// the oneDNN path is tested against.
//
// The batch is split into the dwSlots fixed slots of conv.go, each slot a
// single-threaded oneDNN call, and the slots' dw are added in slot order:
// results do not depend on how many workers run the slots.

// dnnlKey is one primitive set: a convolution's geometry at one minibatch.
type dnnlKey struct{ mb, c, h, w, o, kh, kw, stride, pad int }

// dnnlConvs holds every primitive set made, shared by all graphs: a
// process trains many runs of the same few geometries, and oneDNN's
// just-in-time kernels are worth keeping.
var dnnlConvs struct {
	sync.Mutex
	m map[dnnlKey]*C.wb_conv
}

func dnnlConv(g *convGeom, mb int) (*C.wb_conv, error) {
	k := dnnlKey{mb, g.c, g.h, g.w, g.o, g.kh, g.kw, g.stride, g.pad}
	dnnlConvs.Lock()
	defer dnnlConvs.Unlock()
	if cv := dnnlConvs.m[k]; cv != nil {
		return cv, nil
	}
	var msg [256]C.char
	cv := C.wb_conv_new(C.int(mb), C.int(g.c), C.int(g.h), C.int(g.w), C.int(g.o), C.int(g.kh), C.int(g.kw),
		C.int(g.stride), C.int(g.pad), &msg[0], C.int(len(msg)))
	if cv == nil {
		return nil, fmt.Errorf("conv %dx%d stride %d pad %d on (%d,%d,%d,%d): %s", g.kh, g.kw, g.stride, g.pad, mb, g.c, g.h, g.w, C.GoString(&msg[0]))
	}
	if dnnlConvs.m == nil {
		dnnlConvs.m = make(map[dnnlKey]*C.wb_conv)
	}
	dnnlConvs.m[k] = cv
	return cv, nil
}

// dnnlImpl names the forward, backward-data and backward-weights kernels
// oneDNN chose for g at minibatch mb.
func dnnlImpl(g *convGeom, mb int) ([3]string, error) {
	cv, err := dnnlConv(g, mb)
	if err != nil {
		return [3]string{}, err
	}
	var s [3]string
	for i := range s {
		s[i] = C.GoString(C.wb_conv_impl(cv, C.int(i)))
	}
	return s, nil
}

// dnnlStatus turns a failed call's status into an error.
func dnnlStatus(what string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return fmt.Errorf("oneDNN %s failed: status %d", what, int(rc))
}

// workspace returns wk.col grown to at least n bytes.
func (wk *convWork[T]) workspace(n C.size_t) unsafe.Pointer {
	var z T
	wk.col = grow(wk.col, int(uintptr(n)/unsafe.Sizeof(z))+1)
	return unsafe.Pointer(&wk.col[0])
}

// forSlots runs f on every non-empty slot of n images, in parallel, and
// returns the first error.
func forSlots(n int, f func(worker, slot, i0, i1 int) error) error {
	var errs [dwSlots]error
	parallelForWorker(dwSlots, func(worker, lo, hi int, _ bool) {
		for s := lo; s < hi; s++ {
			if i0, i1 := slotRange(s, n); i0 < i1 {
				errs[s] = f(worker, s, i0, i1)
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func f32p(s []float32) *C.float { return (*C.float)(unsafe.Pointer(&s[0])) }

// convForwardDNNL is convForward on oneDNN.
func convForwardDNNL(g *convGeom, ws []convWork[float32], x, w, y []float32) error {
	return forSlots(g.n, func(worker, _, i0, i1 int) error {
		cv, err := dnnlConv(g, i1-i0)
		if err != nil {
			return err
		}
		buf := ws[worker].workspace(C.wb_conv_fwd_ws(cv))
		return dnnlStatus("convolution forward", C.wb_conv_fwd(cv, f32p(x[i0*g.inSize:]), f32p(w), f32p(y[i0*g.outSiz:]), buf))
	})
}

// convBackwardDNNL is convBackward on oneDNN: dw, and dx unless it is nil.
func convBackwardDNNL(g *convGeom, ws []convWork[float32], x, w, dy, dx, dw []float32) error {
	for s := range dwSlots {
		ws[0].slots[s] = grow(ws[0].slots[s], len(dw))
	}
	err := forSlots(g.n, func(worker, slot, i0, i1 int) error {
		cv, err := dnnlConv(g, i1-i0)
		if err != nil {
			return err
		}
		buf := ws[worker].workspace(C.wb_conv_bwd_ws(cv))
		var dxp *C.float
		if dx != nil {
			dxp = f32p(dx[i0*g.inSize:])
		}
		return dnnlStatus("convolution backward", C.wb_conv_bwd(cv, f32p(x[i0*g.inSize:]), f32p(w), f32p(dy[i0*g.outSiz:]), dxp, f32p(ws[0].slots[slot]), buf))
	})
	if err != nil {
		return err
	}
	sumSlots(dw, ws, g.n)
	return nil
}

var convKernels struct {
	sync.Once
	s string
}

// ConvKernels names the library and kernel float32 convolutions run on
// here, e.g. "oneDNN 2.6.3, brgconv:avx512_core" (the forward kernel of a
// 3×3 convolution with 16 channels on 32×32 maps).
func ConvKernels() string {
	convKernels.Do(func() {
		v := C.dnnl_version()
		name := fmt.Sprintf("oneDNN %d.%d.%d", int(v.major), int(v.minor), int(v.patch))
		g := newConvGeom([]int{8, 16, 32, 32}, []int{16, 16, 3, 3}, 1, 1)
		impl, err := dnnlImpl(&g, 8)
		if err != nil {
			convKernels.s = name + ", " + err.Error()
			return
		}
		convKernels.s = name + ", " + impl[0]
	})
	return convKernels.s
}

// transpose32 sets dst to the transposes of the n rows×cols matrices in src
// (the C side's NCHW <-> NHWC copy; here for its test).
func transpose32(src, dst []float32, n, rows, cols int) {
	if n*rows*cols == 0 {
		return
	}
	C.wb_transpose(f32p(src), f32p(dst), C.int(n), C.int(rows), C.int(cols))
}
