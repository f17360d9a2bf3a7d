package tui

import (
	"strings"
	"testing"
)

// The builder's "more axes" row crosses the issue-12 settings (and any other
// setting) with the form's axes; combinations the parser rejects are
// skipped with the reason, and the saved spec carries the settings.
func TestBuilderMoreAxes(t *testing.T) {
	b := &builderScreen{specDir: t.TempDir()}
	b.clear()
	b.field(fName).input.SetValue("abl-axes")
	b.field(fAxes).input.SetValue("updates=1|2; optimizer=skip-unreached|pytorch-shared")
	p := planStudy(b, []throughputSample{})
	if p.study == nil {
		t.Fatalf("no study: %v", p.errs)
	}
	got := strings.Join(p.study.Labels(), " ")
	want := "baseline-updates_1-optimizer_skipunreached baseline-updates_1-optimizer_pytorchshared " +
		"baseline-updates_2-optimizer_skipunreached baseline-updates_2-optimizer_pytorchshared " +
		"two-step-updates_1-optimizer_skipunreached two-step-updates_1-optimizer_pytorchshared"
	if got != want {
		t.Errorf("variants\n%s\nwant\n%s", got, want)
	}
	if len(p.skipped) != 2 || !strings.Contains(p.skipped[0], "two-step-updates_2") || !strings.Contains(p.skipped[0], "needs steps = 0") {
		t.Errorf("skipped %v, want two-step with updates 2 (needs steps = 0)", p.skipped)
	}
	if !strings.Contains(string(p.text), "updates = 2") || !strings.Contains(string(p.text), `optimizer = "pytorch-shared"`) {
		t.Errorf("spec text lacks the settings:\n%s", p.text)
	}
	// A two-step run with pytorch-shared is its own run; the baseline's is
	// the same run as skip-unreached (one update reaches every parameter).
	hashes := map[string]string{}
	for _, r := range p.runs {
		if r.Seed == 1 {
			hashes[r.Variant] = r.Hash
		}
	}
	if hashes["two-step-updates_1-optimizer_skipunreached"] == hashes["two-step-updates_1-optimizer_pytorchshared"] ||
		hashes["baseline-updates_2-optimizer_skipunreached"] != hashes["baseline-updates_2-optimizer_pytorchshared"] {
		t.Errorf("run hashes %v", hashes)
	}

	for _, bad := range []string{"kd_detach", "kd_detach=maybe", "updates=1; updates=2"} {
		b.field(fAxes).input.SetValue(bad)
		if p := planStudy(b, []throughputSample{}); p.study != nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	b.field(fAxes).input.SetValue("three_step_pairs=4>2,4>3|3>2,4>3")
	b.field(fSteps).chosen = []bool{false, false, false, true}
	if p := planStudy(b, []throughputSample{}); p.study == nil || len(p.study.Variants) != 2 {
		t.Errorf("three-step pairs: %v %v", p.errs, p.study)
	}
}
