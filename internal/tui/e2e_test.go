package tui

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestTmuxEndToEnd runs scripts/tui-e2e.sh: the real binary in tmux, a
// 2-variant study built with the keyboard, run with the smoke profile and
// exported. Building the binary and training make it take 20 s or more, so
// it runs only when WORKBENCH_TUI_E2E=1 (TestSmokeStudyEndToEnd covers the
// same path in process on every run); it skips without tmux or go.
func TestTmuxEndToEnd(t *testing.T) {
	if os.Getenv("WORKBENCH_TUI_E2E") != "1" {
		t.Skip("set WORKBENCH_TUI_E2E=1 to run scripts/tui-e2e.sh through tmux")
	}
	for _, tool := range []string{"tmux", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	repo, err := filepath.Abs(filepath.Join(pkgDir, "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "workbench")
	build := exec.Command("go", "build", "-o", bin, "./cmd/workbench")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(filepath.Join(repo, "scripts", "tui-e2e.sh"))
	cmd.Env = append(os.Environ(), "WORKBENCH="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/tui-e2e.sh: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
