package ops

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
*/
import "C"

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// blasImpl is OpenBLAS through cgo (Debian: libopenblas-dev).
var blasImpl netlib.Implementation

// Importing ops sets up BLAS for the whole process:
//   - OpenBLAS runs the kernels the CPU supports, also on CPU models newer
//     than its release (selectBLASCore);
//   - OpenBLAS runs single-threaded: the kernels here split their work over
//     goroutines themselves (parallelFor), which beats OpenBLAS's own threads
//     on 2 cores, and two thread pools would fight over the cores;
//   - gorgonia's built-in matrix products (linear layers) use OpenBLAS too
//     instead of gonum's pure-Go BLAS.
//
// openblas_set_num_threads is called directly, so no environment variable
// (OPENBLAS_NUM_THREADS) needs to be set by anyone.
func init() {
	selectBLASCore()
	C.openblas_set_num_threads(1)
	gorgonia.Use(blasImpl)
}

// gemm is C = alpha·op(A)·op(B) + beta·C on row-major matrices (op = transpose
// when tA / tB), through OpenBLAS's sgemm or dgemm.
func gemm[T float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	switch av := any(a).(type) {
	case []float32:
		blasImpl.Sgemm(ta, tb, m, n, k, float32(alpha), av, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blasImpl.Dgemm(ta, tb, m, n, k, float64(alpha), av, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	}
}
