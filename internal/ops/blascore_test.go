package ops

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

func TestCoreForCPU(t *testing.T) {
	for _, c := range []struct {
		f    cpuFeatures
		want string
	}{
		{cpuFeatures{avx: true, avx2: true, avx512: true, avx512bf16: true}, "Cooperlake"},
		{cpuFeatures{avx: true, avx2: true, avx512: true}, "SkylakeX"},
		{cpuFeatures{avx: true, avx2: true}, "Haswell"},
		{cpuFeatures{avx: true}, "Sandybridge"},
		{cpuFeatures{}, ""},
		// BF16 without the AVX-512 base set is not enough for Cooperlake.
		{cpuFeatures{avx: true, avx2: true, avx512bf16: true}, "Haswell"},
	} {
		if got := coreForCPU(c.f); got != c.want {
			t.Errorf("coreForCPU(%+v) = %q, want %q", c.f, got, c.want)
		}
	}
}

// TestBLASCore checks the kernels this process runs: the environment's
// OPENBLAS_CORETYPE when set (CI sets Haswell), never Prescott's SSE3
// kernels on a CPU with AVX2 when unset — checked in a child process
// without the variable, so it runs on every machine.
func TestBLASCore(t *testing.T) {
	if os.Getenv("WB_PRINT_BLAS_CORE") == "1" {
		os.Stdout.WriteString("core=" + BLASCore + "\n")
		os.Exit(0)
	}
	if env, ok := os.LookupEnv("OPENBLAS_CORETYPE"); ok && env != "" {
		if !strings.EqualFold(BLASCore, env) || BLASCoreNote != "" {
			t.Errorf("OPENBLAS_CORETYPE=%s: running %q (note %q), want the variable obeyed", env, BLASCore, BLASCoreNote)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestBLASCore$")
	cmd.Env = append(withoutEnv(os.Environ(), "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"), "WB_PRINT_BLAS_CORE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var core string
	for _, line := range strings.Split(string(out), "\n") {
		if c, ok := strings.CutPrefix(line, "core="); ok {
			core = c
		}
	}
	if core == "" {
		t.Fatalf("child printed %q, want core=NAME", out)
	}
	t.Logf("without OPENBLAS_CORETYPE: %s kernels", core)
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA && core == "Prescott" {
		t.Errorf("without OPENBLAS_CORETYPE the kernels are Prescott's (SSE3) on a CPU with AVX2")
	}
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
