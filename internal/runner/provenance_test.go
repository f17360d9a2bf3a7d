package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCodeVersion: the code version follows the training sources and
// nothing else.
func TestCodeVersion(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "go.mod"), "module "+ModulePath+"\n\ngo 1.26\n")
	writeFile(t, filepath.Join(root, "internal/train/run.go"), "package train\n\nfunc Run() {}\n")
	writeFile(t, filepath.Join(root, "internal/ops/blas.c"), "int x;\n")
	sub := filepath.Join(root, "internal/tui")
	writeFile(t, filepath.Join(sub, "tui.go"), "package tui\n")
	t.Setenv(EnvCodeVersion, "")

	base := DetectVersion(sub).Code // found from a directory below the root
	if !strings.HasPrefix(base, "src.") || len(base) != len("src.")+12 {
		t.Fatalf("code version %q, want src.<12 hex>", base)
	}
	tests := []struct {
		name    string
		path    string
		text    string
		changes bool
	}{
		{"a test file", "internal/train/run_test.go", "package train\n", false},
		{"test data", "internal/data/testdata/x.go", "package x\n", false},
		{"a command beside the package", "internal/data/calib/main.go", "// tool\npackage main\n", false},
		{"an ignored file", "internal/nets/gen.go", "//go:build ignore\n\npackage main\n", false},
		{"another package", "internal/tui/tui.go", "package tui\n\nvar x = 1\n", false},
		{"the trainer", "internal/train/run.go", "package train\n\nfunc Run() { println() }\n", true},
		{"a new kernel file", "internal/ops/gemm.go", "package ops\n", true},
		{"cgo source", "internal/ops/blas.c", "int y;\n", true},
		{"go.sum", "go.sum", "example.com/x v1.0.0 h1:abc\n", true},
	}
	prev := base
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeFile(t, filepath.Join(root, tt.path), tt.text)
			got := DetectVersion(root).Code
			if (got != prev) != tt.changes {
				t.Fatalf("code version %s -> %s; want changed = %v", prev, got, tt.changes)
			}
			prev = got
		})
	}

	t.Setenv(EnvCodeVersion, "pinned-1")
	if got := DetectVersion(root).Code; got != "pinned-1" {
		t.Fatalf("with $%s set: %q", EnvCodeVersion, got)
	}
	t.Setenv(EnvCodeVersion, "")
	// Away from any source tree the executable itself is hashed.
	if got := DetectVersion(t.TempDir()).Code; !strings.HasPrefix(got, "exe.") {
		t.Fatalf("outside a source tree: %q, want exe.<hash>", got)
	}
}

func TestDetectProvenance(t *testing.T) {
	p := DetectProvenance(".")
	if p.Host == "" || p.PID != os.Getpid() || !strings.HasPrefix(p.GoVersion, "go") || p.CodeVersion == "" {
		t.Fatalf("provenance %+v", p)
	}
}
