#include "dnnl_conv.h"

#include <immintrin.h>
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// libgomp's, called directly so that the header need not be found: oneDNN
// sizes its work by the calling thread's OpenMP thread count, which is set
// to one before every primitive is created or run.
extern void omp_set_num_threads(int);

// One operand of a primitive: the caller's layout (user), the primitive's
// (inner) and, when they differ, the reorder between them and where the
// inner copy lives in the workspace.
typedef struct {
	dnnl_memory_desc_t user, inner;
	// How the copy at off is made: act, an activation whose copy is NCHW <->
	// NHWC, by wb_transpose (the reference layers ran ~5 % faster than on
	// oneDNN's reorder); else by reorder. Neither: the primitive reads the
	// user's buffer.
	int act, n, c, hw;
	dnnl_primitive_t reorder;
	size_t off;
} wb_arg;

struct wb_conv {
	dnnl_primitive_t fwd, bwd_d, bwd_w;
	const char *impl[3];
	// forward: x, w in; y out
	wb_arg f_x, f_w, f_y;
	// backward data: dy, w in; dx out
	wb_arg d_dy, d_w, d_dx;
	// backward weights: x, dy in; dw out. w_dy_shared: reuse d_dy's copy.
	wb_arg w_x, w_dy, w_dw;
	int w_dy_shared;
	size_t f_pad_off, b_pad_off; // scratchpads
	size_t fwd_ws, bwd_ws;
};

static dnnl_engine_t engine;

static size_t align64(size_t n) { return (n + 63) & ~(size_t)63; }

static dnnl_status_t get_engine(void) {
	static int done;
	static dnnl_status_t st;
	// Guarded by the Go side's mutex (wb_conv_new is only called under it).
	if (!done) {
		st = dnnl_engine_create(&engine, dnnl_cpu, 0);
		done = 1;
	}
	return st;
}

// transpose8 writes the 8x8 block at src (row stride ss) transposed to dst
// (row stride ds).
__attribute__((target("avx2"))) static inline void transpose8(const float *src, size_t ss, float *dst, size_t ds) {
	__m256 r0 = _mm256_loadu_ps(src + 0 * ss), r1 = _mm256_loadu_ps(src + 1 * ss);
	__m256 r2 = _mm256_loadu_ps(src + 2 * ss), r3 = _mm256_loadu_ps(src + 3 * ss);
	__m256 r4 = _mm256_loadu_ps(src + 4 * ss), r5 = _mm256_loadu_ps(src + 5 * ss);
	__m256 r6 = _mm256_loadu_ps(src + 6 * ss), r7 = _mm256_loadu_ps(src + 7 * ss);
	__m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
	__m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
	__m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
	__m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
	__m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
	__m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
	__m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
	__m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
	_mm256_storeu_ps(dst + 0 * ds, _mm256_permute2f128_ps(u0, u4, 0x20));
	_mm256_storeu_ps(dst + 1 * ds, _mm256_permute2f128_ps(u1, u5, 0x20));
	_mm256_storeu_ps(dst + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
	_mm256_storeu_ps(dst + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
	_mm256_storeu_ps(dst + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
	_mm256_storeu_ps(dst + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
	_mm256_storeu_ps(dst + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
	_mm256_storeu_ps(dst + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
}

__attribute__((target("avx2"))) static void transpose_avx2(const float *src, float *dst, size_t rows, size_t cols) {
	size_t r8 = rows & ~(size_t)7, c8 = cols & ~(size_t)7;
	// Along dst's rows: its 8 write streams advance together (going along
	// src's rows instead wrote 8 rows 4 KB apart per block, 3x slower).
	for (size_t j = 0; j < c8; j += 8)
		for (size_t i = 0; i < r8; i += 8) transpose8(src + i * cols + j, cols, dst + j * rows + i, rows);
	for (size_t i = 0; i < rows; i++)
		for (size_t j = i < r8 ? c8 : 0; j < cols; j++) dst[j * rows + i] = src[i * cols + j];
}

// wb_transpose sets dst (cols x rows) to the transpose of src (rows x
// cols), for n matrices one after the other: NCHW to NHWC is rows = C,
// cols = H*W, and back the other way round. A permutation: the result is
// exact whichever path runs.
void wb_transpose(const float *src, float *dst, int n, int rows, int cols) {
	int avx2 = __builtin_cpu_supports("avx2");
	size_t m = (size_t)rows * cols;
	for (int k = 0; k < n; k++) {
		const float *s = src + k * m;
		float *d = dst + k * m;
		if (avx2) {
			transpose_avx2(s, d, rows, cols);
			continue;
		}
		for (int i = 0; i < rows; i++)
			for (int j = 0; j < cols; j++) d[(size_t)j * rows + i] = s[(size_t)i * cols + j];
	}
}

// plan sets a's layouts and, when they differ, how it is copied (a
// transpose for an NCHW activation, else a reorder; to_inner: user to
// inner, else inner to user) and the copy's place at *ws.
static dnnl_status_t plan(wb_arg *a, int nd, const dnnl_dims_t dims,
                          dnnl_format_tag_t tag, const dnnl_memory_desc_t *inner,
                          int to_inner, size_t *ws) {
	dnnl_status_t st = dnnl_memory_desc_init_by_tag(&a->user, nd, dims, dnnl_f32, tag);
	if (st != dnnl_success) return st;
	a->inner = *inner;
	a->reorder = NULL;
	a->act = 0;
	if (dnnl_memory_desc_equal(&a->user, &a->inner)) return dnnl_success;
	if (tag == dnnl_nchw) {
		dnnl_memory_desc_t nhwc;
		if ((st = dnnl_memory_desc_init_by_tag(&nhwc, nd, dims, dnnl_f32, dnnl_nhwc)) != dnnl_success) return st;
		if (dnnl_memory_desc_equal(&nhwc, &a->inner)) {
			a->act = 1;
			a->n = (int)dims[0];
			a->c = (int)dims[1];
			a->hw = (int)(dims[2] * dims[3]);
		}
	}
	if (!a->act) {
		dnnl_primitive_desc_t pd;
		st = to_inner ? dnnl_reorder_primitive_desc_create(&pd, &a->user, engine, &a->inner, engine, NULL)
		              : dnnl_reorder_primitive_desc_create(&pd, &a->inner, engine, &a->user, engine, NULL);
		if (st != dnnl_success) return st;
		st = dnnl_primitive_create(&a->reorder, pd);
		dnnl_primitive_desc_destroy(pd);
		if (st != dnnl_success) return st;
	}
	a->off = *ws;
	*ws += align64(dnnl_memory_desc_get_size(&a->inner));
	return dnnl_success;
}

static void free_arg(wb_arg *a) {
	if (a->reorder) dnnl_primitive_destroy(a->reorder);
}

void wb_conv_free(wb_conv *cv) {
	if (!cv) return;
	if (cv->fwd) dnnl_primitive_destroy(cv->fwd);
	if (cv->bwd_d) dnnl_primitive_destroy(cv->bwd_d);
	if (cv->bwd_w) dnnl_primitive_destroy(cv->bwd_w);
	wb_arg *args[] = {&cv->f_x, &cv->f_w, &cv->f_y, &cv->d_dy, &cv->d_w, &cv->d_dx, &cv->w_x, &cv->w_dy, &cv->w_dw};
	for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) free_arg(args[i]);
	for (int i = 0; i < 3; i++) free((char *)cv->impl[i]);
	free(cv);
}

static const dnnl_memory_desc_t *md(const_dnnl_primitive_desc_t pd, dnnl_query_t q) {
	return dnnl_primitive_desc_query_md(pd, q, 0);
}

static size_t scratch_size(const_dnnl_primitive_desc_t pd) {
	return align64(dnnl_memory_desc_get_size(md(pd, dnnl_query_scratchpad_md)));
}

static const char *impl_name(const_dnnl_primitive_desc_t pd) {
	const char *s = NULL;
	if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s) != dnnl_success || !s) return "?";
	return s;
}

wb_conv *wb_conv_new(int mb, int c, int h, int w, int o, int kh, int kw,
                     int stride, int pad, char *err, int errlen) {
	omp_set_num_threads(1);
	dnnl_status_t st;
	const char *what = "engine";
	wb_conv *cv = calloc(1, sizeof *cv);
	dnnl_primitive_desc_t fpd = NULL, dpd = NULL, wpd = NULL;
	dnnl_primitive_attr_t attr = NULL;
	if (!cv) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((st = get_engine()) != dnnl_success) goto fail;
	int oh = (h + 2 * pad - kh) / stride + 1, ow = (w + 2 * pad - kw) / stride + 1;
	dnnl_dims_t xd = {mb, c, h, w}, wd = {o, c, kh, kw}, yd = {mb, o, oh, ow};
	dnnl_dims_t strides = {stride, stride}, pads = {pad, pad};
	dnnl_memory_desc_t xm, wm, ym;
	what = "descriptors";
	if ((st = dnnl_memory_desc_init_by_tag(&xm, 4, xd, dnnl_f32, dnnl_nhwc)) != dnnl_success) goto fail;
	if ((st = dnnl_memory_desc_init_by_tag(&wm, 4, wd, dnnl_f32, dnnl_format_tag_any)) != dnnl_success) goto fail;
	if ((st = dnnl_memory_desc_init_by_tag(&ym, 4, yd, dnnl_f32, dnnl_nhwc)) != dnnl_success) goto fail;
	if ((st = dnnl_primitive_attr_create(&attr)) != dnnl_success) goto fail;
	if ((st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user)) != dnnl_success) goto fail;

	dnnl_convolution_desc_t fd, dd, wdsc;
	what = "forward";
	if ((st = dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &xm, &wm, NULL, &ym, strides, pads, pads)) != dnnl_success) goto fail;
	if ((st = dnnl_primitive_desc_create(&fpd, &fd, attr, engine, NULL)) != dnnl_success) goto fail;
	what = "backward data";
	if ((st = dnnl_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &xm, &wm, &ym, strides, pads, pads)) != dnnl_success) goto fail;
	if ((st = dnnl_primitive_desc_create(&dpd, &dd, attr, engine, fpd)) != dnnl_success) goto fail;
	what = "backward weights";
	if ((st = dnnl_convolution_backward_weights_desc_init(&wdsc, dnnl_convolution_direct, &xm, &wm, NULL, &ym, strides, pads, pads)) != dnnl_success) goto fail;
	if ((st = dnnl_primitive_desc_create(&wpd, &wdsc, attr, engine, fpd)) != dnnl_success) goto fail;

	what = "reorders";
	size_t ws = 64; // room to align the caller's buffer
	if ((st = plan(&cv->f_x, 4, xd, dnnl_nchw, md(fpd, dnnl_query_src_md), 1, &ws)) != dnnl_success) goto fail;
	if ((st = plan(&cv->f_w, 4, wd, dnnl_oihw, md(fpd, dnnl_query_weights_md), 1, &ws)) != dnnl_success) goto fail;
	if ((st = plan(&cv->f_y, 4, yd, dnnl_nchw, md(fpd, dnnl_query_dst_md), 0, &ws)) != dnnl_success) goto fail;
	cv->f_pad_off = ws;
	cv->fwd_ws = ws + scratch_size(fpd);

	ws = 64;
	if ((st = plan(&cv->d_dy, 4, yd, dnnl_nchw, md(dpd, dnnl_query_diff_dst_md), 1, &ws)) != dnnl_success) goto fail;
	if ((st = plan(&cv->d_w, 4, wd, dnnl_oihw, md(dpd, dnnl_query_weights_md), 1, &ws)) != dnnl_success) goto fail;
	if ((st = plan(&cv->d_dx, 4, xd, dnnl_nchw, md(dpd, dnnl_query_diff_src_md), 0, &ws)) != dnnl_success) goto fail;
	if ((st = plan(&cv->w_x, 4, xd, dnnl_nchw, md(wpd, dnnl_query_src_md), 1, &ws)) != dnnl_success) goto fail;
	cv->w_dy_shared = dnnl_memory_desc_equal(md(wpd, dnnl_query_diff_dst_md), &cv->d_dy.inner);
	if (cv->w_dy_shared) {
		cv->w_dy = cv->d_dy;
		cv->w_dy.reorder = NULL; // owned by d_dy
	} else if ((st = plan(&cv->w_dy, 4, yd, dnnl_nchw, md(wpd, dnnl_query_diff_dst_md), 1, &ws)) != dnnl_success) {
		goto fail;
	}
	if ((st = plan(&cv->w_dw, 4, wd, dnnl_oihw, md(wpd, dnnl_query_diff_weights_md), 0, &ws)) != dnnl_success) goto fail;
	cv->b_pad_off = ws;
	size_t dpad = scratch_size(dpd), wpad = scratch_size(wpd);
	cv->bwd_ws = ws + (dpad > wpad ? dpad : wpad);

	what = "primitives";
	if ((st = dnnl_primitive_create(&cv->fwd, fpd)) != dnnl_success) goto fail;
	if ((st = dnnl_primitive_create(&cv->bwd_d, dpd)) != dnnl_success) goto fail;
	if ((st = dnnl_primitive_create(&cv->bwd_w, wpd)) != dnnl_success) goto fail;
	// The names live in the primitive descriptors; keep static copies.
	const char *names[3] = {impl_name(fpd), impl_name(dpd), impl_name(wpd)};
	for (int i = 0; i < 3; i++) cv->impl[i] = strdup(names[i]);
	dnnl_primitive_desc_destroy(fpd);
	dnnl_primitive_desc_destroy(dpd);
	dnnl_primitive_desc_destroy(wpd);
	dnnl_primitive_attr_destroy(attr);
	return cv;
fail:
	snprintf(err, errlen, "oneDNN %s: %s", what, dnnl_status2str(st));
	if (fpd) dnnl_primitive_desc_destroy(fpd);
	if (dpd) dnnl_primitive_desc_destroy(dpd);
	if (wpd) dnnl_primitive_desc_destroy(wpd);
	if (attr) dnnl_primitive_attr_destroy(attr);
	wb_conv_free(cv);
	return NULL;
}

size_t wb_conv_fwd_ws(const wb_conv *cv) { return cv->fwd_ws; }
size_t wb_conv_bwd_ws(const wb_conv *cv) { return cv->bwd_ws; }
const char *wb_conv_impl(const wb_conv *cv, int which) { return cv->impl[which]; }

// A call's memory objects, destroyed when it returns.
typedef struct {
	dnnl_memory_t m[16];
	int n;
} mems;

static dnnl_status_t mem(mems *ms, const dnnl_memory_desc_t *d, void *p, dnnl_memory_t *out) {
	dnnl_status_t st = dnnl_memory_create(out, d, engine, p);
	if (st == dnnl_success) ms->m[ms->n++] = *out;
	return st;
}

static void release(mems *ms) {
	for (int i = 0; i < ms->n; i++) dnnl_memory_destroy(ms->m[i]);
}

static dnnl_status_t reorder(dnnl_primitive_t r, dnnl_stream_t s, dnnl_memory_t from, dnnl_memory_t to) {
	dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
	return dnnl_primitive_execute(r, s, 2, args);
}

// in makes the primitive's copy of an input: *out is the user's buffer or
// its copy in the workspace.
static dnnl_status_t in(mems *ms, dnnl_stream_t s, const wb_arg *a, const void *user, char *ws, dnnl_memory_t *out) {
	if (a->act) {
		wb_transpose(user, (float *)(ws + a->off), a->n, a->c, a->hw);
		return mem(ms, &a->inner, ws + a->off, out);
	}
	dnnl_memory_t u;
	dnnl_status_t st = mem(ms, &a->user, (void *)user, &u);
	if (st != dnnl_success || !a->reorder) {
		*out = u;
		return st;
	}
	if ((st = mem(ms, &a->inner, ws + a->off, out)) != dnnl_success) return st;
	return reorder(a->reorder, s, u, *out);
}

// out_mem gives the primitive's buffer for an output (and, for a reorder,
// the user's); out_done copies it into the user's buffer.
static dnnl_status_t out_mem(mems *ms, const wb_arg *a, void *user, char *ws, dnnl_memory_t *u, dnnl_memory_t *inner) {
	if (a->act) {
		*u = NULL; // out_done transposes into the user's buffer itself
		return mem(ms, &a->inner, ws + a->off, inner);
	}
	dnnl_status_t st = mem(ms, &a->user, user, u);
	if (st != dnnl_success || !a->reorder) {
		*inner = *u;
		return st;
	}
	return mem(ms, &a->inner, ws + a->off, inner);
}

static dnnl_status_t out_done(dnnl_stream_t s, const wb_arg *a, char *ws, void *user, dnnl_memory_t u, dnnl_memory_t inner) {
	if (a->act) {
		wb_transpose((const float *)(ws + a->off), user, a->n, a->hw, a->c);
		return dnnl_success;
	}
	return a->reorder ? reorder(a->reorder, s, inner, u) : dnnl_success;
}

static char *aligned(void *ws) { return (char *)(((uintptr_t)ws + 63) & ~(uintptr_t)63); }

int wb_conv_fwd(const wb_conv *cv, const float *x, const float *w, float *y, void *wsp) {
	omp_set_num_threads(1);
	char *ws = aligned(wsp);
	mems ms = {.n = 0};
	dnnl_stream_t s = NULL;
	dnnl_memory_t mx, mw, uy, my, pad;
	dnnl_status_t st = dnnl_stream_create(&s, engine, dnnl_stream_default_flags);
	if (st != dnnl_success) return st;
	if ((st = in(&ms, s, &cv->f_x, x, ws, &mx)) != dnnl_success) goto done;
	if ((st = in(&ms, s, &cv->f_w, w, ws, &mw)) != dnnl_success) goto done;
	if ((st = out_mem(&ms, &cv->f_y, y, ws, &uy, &my)) != dnnl_success) goto done;
	const_dnnl_primitive_desc_t pd;
	if ((st = dnnl_primitive_get_primitive_desc(cv->fwd, &pd)) != dnnl_success) goto done;
	if ((st = mem(&ms, md(pd, dnnl_query_scratchpad_md), ws + cv->f_pad_off, &pad)) != dnnl_success) goto done;
	dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, mx}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, my}, {DNNL_ARG_SCRATCHPAD, pad}};
	if ((st = dnnl_primitive_execute(cv->fwd, s, 4, args)) != dnnl_success) goto done;
	st = out_done(s, &cv->f_y, ws, y, uy, my);
done:
	release(&ms);
	dnnl_stream_destroy(s);
	return st;
}

int wb_conv_bwd(const wb_conv *cv, const float *x, const float *w, const float *dy,
                float *dx, float *dw, void *wsp) {
	omp_set_num_threads(1);
	char *ws = aligned(wsp);
	mems ms = {.n = 0};
	dnnl_stream_t s = NULL;
	dnnl_memory_t mdy, mw, udx, mdx, mx, mdy2, udw, mdw, pad;
	const_dnnl_primitive_desc_t pd;
	dnnl_status_t st = dnnl_stream_create(&s, engine, dnnl_stream_default_flags);
	if (st != dnnl_success) return st;
	if ((st = in(&ms, s, &cv->d_dy, dy, ws, &mdy)) != dnnl_success) goto done;
	if (dx) {
		if ((st = in(&ms, s, &cv->d_w, w, ws, &mw)) != dnnl_success) goto done;
		if ((st = out_mem(&ms, &cv->d_dx, dx, ws, &udx, &mdx)) != dnnl_success) goto done;
		if ((st = dnnl_primitive_get_primitive_desc(cv->bwd_d, &pd)) != dnnl_success) goto done;
		if ((st = mem(&ms, md(pd, dnnl_query_scratchpad_md), ws + cv->b_pad_off, &pad)) != dnnl_success) goto done;
		dnnl_exec_arg_t args[4] = {{DNNL_ARG_DIFF_DST, mdy}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mdx}, {DNNL_ARG_SCRATCHPAD, pad}};
		if ((st = dnnl_primitive_execute(cv->bwd_d, s, 4, args)) != dnnl_success) goto done;
		if ((st = out_done(s, &cv->d_dx, ws, dx, udx, mdx)) != dnnl_success) goto done;
	}
	if ((st = in(&ms, s, &cv->w_x, x, ws, &mx)) != dnnl_success) goto done;
	if (cv->w_dy_shared) {
		mdy2 = mdy;
	} else if ((st = in(&ms, s, &cv->w_dy, dy, ws, &mdy2)) != dnnl_success) {
		goto done;
	}
	if ((st = out_mem(&ms, &cv->w_dw, dw, ws, &udw, &mdw)) != dnnl_success) goto done;
	if ((st = dnnl_primitive_get_primitive_desc(cv->bwd_w, &pd)) != dnnl_success) goto done;
	if ((st = mem(&ms, md(pd, dnnl_query_scratchpad_md), ws + cv->b_pad_off, &pad)) != dnnl_success) goto done;
	dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, mx}, {DNNL_ARG_DIFF_DST, mdy2}, {DNNL_ARG_DIFF_WEIGHTS, mdw}, {DNNL_ARG_SCRATCHPAD, pad}};
	if ((st = dnnl_primitive_execute(cv->bwd_w, s, 4, args)) != dnnl_success) goto done;
	st = out_done(s, &cv->w_dw, ws, dw, udw, mdw);
done:
	release(&ms);
	dnnl_stream_destroy(s);
	return st;
}
