package runspec

import (
	"os/exec"
	"strings"
	"testing"
)

// The packages that describe, store and show runs must not link the graph
// code (gorgonia) or cgo (OpenBLAS): only the trainer, the runner and the
// binary do.
func TestDescribingPackagesLinkNoTrainer(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list dependencies")
	}
	pkgs := []string{"runspec", "arch", "experiment", "store", "report", "tui", "data"}
	for _, p := range pkgs {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{if .CgoFiles}}cgo{{end}}",
			"github.com/mksmt/workbench/internal/"+p).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", p, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			if strings.HasPrefix(f[0], "gorgonia.org/") || strings.Contains(f[0], "internal/train") ||
				strings.Contains(f[0], "internal/nets") || strings.Contains(f[0], "internal/ops") ||
				(len(f) > 1 && f[1] == "cgo" && f[0] != "runtime/cgo" && f[0] != "github.com/mattn/go-sqlite3" && f[0] != "net" && f[0] != "os/user") {
				t.Errorf("internal/%s links %s", p, line)
			}
		}
	}
}
