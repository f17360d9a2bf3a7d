package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/report/reporttest"
	"github.com/mksmt/workbench/internal/store"
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
		"MKSMT loses less under a vertical flip", "note: profile smoke", "| p raw | p Holm | Verdict | Seeds needed |",
		"verdicts: ", "accuracy resolution 3.125 points: 1 of 32 test images"} {
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
	for _, name := range []string{"repro-curves.png", "repro-bars.png", "fig4-gradcam.png"} {
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
	for _, name := range []string{"table7-bars.png", "table8-bars.svg", "table9-curves.png", "fig3-temperature-sweep.png", "fig4-gradcam.png"} {
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

// TestReproduceSeedsNeeded: --seeds-needed trains nothing and prints, per
// variant of an inconclusive claim, the seeds 80 % power needs at the
// observed spread, the runs that adds and their time.
func TestReproduceSeedsNeeded(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "experiments"), 0o755); err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(dir, "experiments", "mini.toml")
	if err := os.WriteFile(specPath, []byte(miniSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	study, err := experiment.Load(specPath)
	if err != nil {
		t.Fatal(err)
	}
	cfgs, err := report.StudyConfigs(study, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	// async − sync at S4: +1, −0.5, +2 (mean 0.833, std 1.258): inconclusive.
	run := func(v string, seed int64, s4 float64) report.RunResult {
		return report.RunResult{Variant: v, Seed: seed, Summaries: map[string]float64{"acc.S3": 50, "acc.S4": s4, "train_seconds": 100}}
	}
	fx := reporttest.Study{Spec: report.StudySpec(study), Configs: cfgs, Results: []report.RunResult{
		run("sync", 1, 60), run("sync", 2, 61), run("sync", 3, 62), run("async", 1, 61), run("async", 2, 60.5), run("async", 3, 64)}}
	db := filepath.Join(dir, "runs.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := reporttest.WriteDB(context.Background(), st, fx); err != nil {
		t.Fatal(err)
	}
	before, err := st.Runs(context.Background(), store.RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	t.Chdir(dir)

	out, errs, code := runVerb(t, "reproduce", "--seeds-needed", "--profile", "smoke", "--db", db)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	d := report.Describe([]float64{1, -0.5, 2})
	need := report.SeedsNeeded(func(n int) float64 { return report.PowerPaired(d.Mean, d.Std, n, report.Alpha) })
	if need <= 3 || need > 100 {
		t.Fatalf("the fixture needs %d seeds; want a handful more than 3", need)
	}
	// Runs of the smoke profile are not in runs.db under these configs'
	// hashes (the fixture stores stand-in hashes): every seed past 3 is new,
	// and so are the fixture's three per variant.
	for _, v := range []string{"sync", "async"} {
		row := regexp.MustCompile(`(?m)^mini\s+` + v + `\s+3\s+` + strconv.Itoa(need) + `\s+` + strconv.Itoa(need) + `\s+(\S+)\s+1 claim\(s\)$`)
		m := row.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no plan row for %s needing %d seeds:\n%s", v, need, out)
		}
		if want := report.Duration(time.Duration(100*need) * time.Second); m[1] != want {
			t.Errorf("%s: estimate %s, want %s", v, m[1], want)
		}
	}
	if !strings.Contains(out, "total: "+strconv.Itoa(2*need)+" new run(s)") {
		t.Errorf("no total of %d runs:\n%s", 2*need, out)
	}
	st, err = store.OpenReadOnly(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	after, err := st.Runs(context.Background(), store.RunFilter{})
	if err != nil || len(after) != len(before) {
		t.Errorf("--seeds-needed changed runs.db: %d runs before, %d after (%v)", len(before), len(after), err)
	}

	// Without a database there is no spread to plan from.
	_, errs, code = runVerb(t, "reproduce", "--seeds-needed", "--db", filepath.Join(dir, "none.db"))
	if code == 0 || !strings.Contains(errs, "the plan needs the spread of finished runs") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}
