// Float32 convolutions on oneDNN (Debian: libdnnl-dev), for conv.go.
//
// One wb_conv holds the forward, backward-data and backward-weights
// primitives of one geometry and minibatch size. The caller's tensors are
// NCHW (x, y, dx, dy) and OIHW (w, dw); the primitives run on NHWC
// activations, where oneDNN's AVX-512 kernels are fastest, and every call
// reorders its operands in and out through the caller's workspace. Calls
// run single-threaded (the Go side runs chunks of the batch in parallel)
// and take their scratchpad from the workspace too, so one wb_conv can be
// executed by several threads at once.
#ifndef WB_DNNL_CONV_H
#define WB_DNNL_CONV_H

#include <stddef.h>

typedef struct wb_conv wb_conv;

// wb_conv_new returns NULL and writes a message to err on failure.
wb_conv *wb_conv_new(int mb, int c, int h, int w, int o, int kh, int kw,
                     int stride, int pad, char *err, int errlen);
void wb_conv_free(wb_conv *cv);

// Workspace bytes a forward or backward call needs (alignment included).
size_t wb_conv_fwd_ws(const wb_conv *cv);
size_t wb_conv_bwd_ws(const wb_conv *cv);

// The primitives' implementation names, e.g. "brgconv:avx512_core".
const char *wb_conv_impl(const wb_conv *cv, int which);

// y = conv(x, w). Returns 0 or a dnnl_status_t.
int wb_conv_fwd(const wb_conv *cv, const float *x, const float *w, float *y,
                void *ws);
// dw = dL/dw and, when dx is not NULL, dx = dL/dx, from dy.
int wb_conv_bwd(const wb_conv *cv, const float *x, const float *w,
                const float *dy, float *dx, float *dw, void *ws);

// dst = the transpose of each of n rows x cols matrices in src (exact).
void wb_transpose(const float *src, float *dst, int n, int rows, int cols);

#endif
