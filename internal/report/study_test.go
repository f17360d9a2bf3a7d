package report

import (
	"path/filepath"
	"testing"

	"github.com/mksmt/workbench/internal/experiment"
)

// The shipped specs in experiments/ map onto valid report specs; Figure 3's
// grid becomes the sweep axis.
func TestStudySpecShipped(t *testing.T) {
	paths, err := filepath.Glob("../../experiments/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no study specs in experiments/")
	}
	tables := map[string]bool{}
	for _, p := range paths {
		st, err := experiment.Load(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		spec := StudySpec(st)
		if err := spec.Validate(); err != nil {
			t.Errorf("%s: %v", p, err)
		}
		tables[spec.Table] = true
		if spec.Table == "fig3" {
			if spec.Sweep == nil || len(spec.Sweep.X) != len(spec.Variants) {
				t.Errorf("%s: sweep %+v, want one position per variant", p, spec.Sweep)
			} else if x := spec.Sweep.X[spec.Variants[len(spec.Variants)-1]]; x != 10 {
				t.Errorf("%s: last temperature %v, want 10", p, x)
			}
		}
		cfgs, err := StudyConfigs(st, "smoke")
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		n := 0
		for _, seeds := range cfgs {
			n += len(seeds)
		}
		if n != len(spec.Variants)*len(spec.Seeds) {
			t.Errorf("%s: %d configs for %d variants × %d seeds", p, n, len(spec.Variants), len(spec.Seeds))
		}
	}
	for _, want := range []string{"table7", "table8", "table9", "table10", "table11", "fig3"} {
		if !tables[want] {
			t.Errorf("no shipped study renders %s", want)
		}
	}
}
