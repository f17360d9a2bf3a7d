package ops

/*
#include <stdlib.h>
char *openblas_get_corename(void);
void gotoblas_dynamic_init(void);
void gotoblas_dynamic_quit(void);

// wb_select_core re-runs OpenBLAS's kernel selection with core forced, as
// OPENBLAS_CORETYPE=core at start-up would have, and leaves the process's
// environment as it found it (children choose for themselves).
static void wb_select_core(const char *core) {
	setenv("OPENBLAS_CORETYPE", core, 1);
	gotoblas_dynamic_quit();
	gotoblas_dynamic_init();
	unsetenv("OPENBLAS_CORETYPE");
}
*/
import "C"

import (
	"os"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// BLASCore is the OpenBLAS kernel set this process runs (OpenBLAS's name:
// Haswell, SkylakeX, Cooperlake, ...), and BLASCoreNote says why when the
// workbench chose it rather than OpenBLAS ("" otherwise).
var BLASCore, BLASCoreNote string

// selectBLASCore corrects OpenBLAS's kernel choice on CPUs its release does
// not know. Debian 12's OpenBLAS 0.3.21 detects the CPU model at load time;
// on a model newer than its table (e.g. family 6 model 207) it falls back to
// Prescott, SSE3 kernels: measured 58 GFLOP/s for sgemm 1024³ against 232
// with the Cooperlake kernels the same CPU runs, and the resnet batch 4×
// slower. The choice is remade from the CPU's own features, as newer
// OpenBLAS releases do for unknown models, only when nobody chose:
// OPENBLAS_CORETYPE set (as on CI, =Haswell) is always obeyed. It runs in
// init, before any BLAS call.
func selectBLASCore() {
	BLASCore = C.GoString(C.openblas_get_corename())
	if _, set := os.LookupEnv("OPENBLAS_CORETYPE"); set || BLASCore != "Prescott" {
		return
	}
	want := coreForCPU(cpuFeatures{
		avx:        cpu.X86.HasAVX,
		avx2:       cpu.X86.HasAVX2 && cpu.X86.HasFMA,
		avx512:     cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL,
		avx512bf16: cpu.X86.HasAVX512BF16,
	})
	if want == "" {
		return
	}
	name := C.CString(want)
	defer C.free(unsafe.Pointer(name))
	C.wb_select_core(name)
	BLASCore = C.GoString(C.openblas_get_corename())
	BLASCoreNote = "OpenBLAS picked Prescott (it does not know this CPU model); the workbench selected " + BLASCore + " from the CPU's features"
}

// cpuFeatures is what coreForCPU looks at (x/sys/cpu sets each only when
// the OS saves the registers too).
type cpuFeatures struct{ avx, avx2, avx512, avx512bf16 bool }

// coreForCPU is the best OpenBLAS 0.3.21 kernel set for the features, in
// the order newer OpenBLAS releases use for models they do not know, or ""
// when Prescott is right.
func coreForCPU(f cpuFeatures) string {
	switch {
	case f.avx512 && f.avx512bf16:
		return "Cooperlake"
	case f.avx512:
		return "SkylakeX"
	case f.avx2:
		return "Haswell"
	case f.avx:
		return "Sandybridge"
	}
	return ""
}
