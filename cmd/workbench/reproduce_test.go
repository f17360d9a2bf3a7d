package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// reproSpec is a small paper-style study: the baseline against MKSMT at two
// seeds, enough for every table section, the plots and Figure 4.
const reproSpec = `name = "repro"
title = "Repro: baseline vs MKSMT"
table = "table8"
dataset = "synthetic"
backbone = "resnet"
seeds = [1, 2]
metrics = ["acc.S4", "acc.vflip.S4", "drop.vflip.S4"]
baseline = "baseline"

[base]
mode = "sync"
distill = "decision"
temperature = 1.0

[[variant]]
label = "baseline"
steps = 0
distill = "none"

[[variant]]
label = "two-step"
steps = 2

[[claim]]
text = "MKSMT loses less under a vertical flip"
metric = "drop.vflip.S4"
variant = "two-step"
expect = "lower"
`

// notPaper has no paper table: reproduce leaves it alone.
const notPaper = `name = "mine"
seeds = [1]
[[variant]]
label = "a"
steps = 0
distill = "none"
`

// TestReproduceSmoke trains a small study for real at the smoke profile
// through the runner, prints its table, writes its figures (Figure 4 from
// the checkpoints), and on a second call reuses every run.
func TestReproduceSmoke(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll("experiments", 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"repro.toml": reproSpec, "mine.toml": notPaper} {
		if err := os.WriteFile(filepath.Join("experiments", name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errs, code := runVerb(t, "reproduce", "--profile", "smoke", "--format", "md", "--gradcam", "2", "--plot-format", "png")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	for _, want := range []string{"### Repro: baseline vs MKSMT (repro)", "| baseline |", "| two-step |", "(2) |",
		"MKSMT loses less under a vertical flip", "note: profile smoke"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "mine") {
		t.Errorf("a study without a paper table was reproduced:\n%s", out)
	}
	if !regexp.MustCompile(`trained 4 run\(s\), reused 0 finished`).MatchString(errs) {
		t.Errorf("stderr does not report 4 trained runs:\n%s", errs)
	}
	for _, name := range []string{"repro-curves.png", "repro-bars.png", "repro-gradcam.png"} {
		data, err := os.ReadFile(filepath.Join("plots", name))
		if err != nil {
			t.Fatalf("%v\nstderr:\n%s", err, errs)
		}
		if _, err := png.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	// Again: nothing to train, the same table.
	out2, errs2, code := runVerb(t, "reproduce", "--profile", "smoke", "--format", "md", "--gradcam", "0", "--plot-format", "svg")
	if code != 0 {
		t.Fatalf("second reproduce: exit %d\n%s", code, errs2)
	}
	if !strings.Contains(errs2, "trained 0 run(s), reused 4 finished") {
		t.Errorf("second reproduce trained again:\n%s", errs2)
	}
	if out2 != out {
		t.Errorf("the table changed between two reproduces of the same runs:\n%s\n---\n%s", out, out2)
	}
	// workbench table prints the same table from the same runs.
	tbl, errs3, code := runVerb(t, "table", "repro", "--profile", "smoke", "--format", "md")
	if code != 0 || tbl != out {
		t.Errorf("workbench table (exit %d, %s) differs from reproduce's:\n%s\n---\n%s", code, errs3, tbl, out)
	}
}

// TestReproduceShippedSmoke runs `workbench reproduce --profile smoke` on
// the shipped studies in experiments/ (tables 7–11 and Figure 3, about 40
// runs: half a minute here). It is the README's main job at the smallest
// profile, so it runs only when WORKBENCH_E2E is set.
func TestReproduceShippedSmoke(t *testing.T) {
	if os.Getenv("WORKBENCH_E2E") == "" {
		t.Skip("set WORKBENCH_E2E=1 to reproduce every shipped study at the smoke profile")
	}
	specs, err := filepath.Glob(filepath.Join("..", "..", "experiments", "*.toml"))
	if err != nil || len(specs) == 0 {
		t.Fatalf("no shipped specs: %v", err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "experiments"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range specs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "experiments", filepath.Base(p)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	out, errs, code := runVerb(t, "reproduce", "--profile", "smoke")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{"(table7)", "(table8)", "(table9)", "(table10)", "(table11)", "(fig3-temperature)"} {
		if !strings.Contains(out, want) {
			t.Errorf("no table %s in the output", want)
		}
	}
	for _, name := range []string{"table7-bars.png", "table8-bars.svg", "table9-curves.png", "fig3-temperature-sweep.png", "table7-gradcam.png"} {
		if _, err := os.Stat(filepath.Join("plots", name)); err != nil {
			t.Error(err)
		}
	}
	t.Logf("stderr tail: %s", errs[max(0, len(errs)-400):])
}

func TestReproduceErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no specs", []string{"reproduce"}, "no study spec with a paper table in experiments"},
		{"argument", []string{"reproduce", "table9"}, `unexpected argument "table9"`},
		{"format", []string{"reproduce", "--format", "pdf"}, `unknown table format "pdf"`},
		{"plot format", []string{"reproduce", "--plot-format", "gif"}, `unknown plot format "gif"`},
		{"jobs", []string{"reproduce", "--jobs", "-1"}, "--jobs -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs, code := runVerb(t, c.args...)
			if code == 0 || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stderr %q; want failure saying %q", code, errs, c.want)
			}
		})
	}
	if _, err := os.Stat("runs.db"); err == nil {
		t.Error("a failed reproduce created runs.db")
	}
}
