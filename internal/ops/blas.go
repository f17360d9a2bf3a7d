package ops

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int);
*/
import "C"

import (
	"gonum.org/v1/netlib/blas/netlib"
	"gorgonia.org/gorgonia"
)

// blasImpl is OpenBLAS through cgo (Debian: libopenblas-dev).
var blasImpl netlib.Implementation

// Importing ops sets up BLAS for the whole process:
//   - OpenBLAS runs single-threaded: the kernels here split their work over
//     goroutines themselves (parallelFor), which beats OpenBLAS's own threads
//     on 2 cores, and two thread pools would fight over the cores;
//   - gorgonia's built-in matrix products (linear layers) use OpenBLAS too
//     instead of gonum's pure-Go BLAS.
//
// openblas_set_num_threads is called directly, so no environment variable
// (OPENBLAS_NUM_THREADS) needs to be set by anyone.
func init() {
	C.openblas_set_num_threads(1)
	gorgonia.Use(blasImpl)
}
