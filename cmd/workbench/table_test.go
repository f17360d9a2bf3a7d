package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/report/reporttest"
	"github.com/mksmt/workbench/internal/store"
)

// The golden files of this package are rewritten with go test -update. The
// flag may be registered by another test file of the package already.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata/")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func goldenFile(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updating() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// miniSpec is a small study written by the test, so that the CLI's golden
// output does not change when the shipped studies in experiments/ do.
const miniSpec = `name = "mini"
title = "Mini: sync vs async"
table = "table10"
dataset = "synthetic"
backbone = "resnet"
profile = "quick"
seeds = [1, 2, 3]
metrics = ["acc.S3", "acc.S4"]
baseline = "sync"

[base]
steps = 2
distill = "decision"

[[variant]]
label = "sync"
mode = "sync"

[[variant]]
label = "async"
mode = "async"

[[paper]]
variant = "async"
metric = "acc.S4"
value = -0.3
versus = "sync"

[[claim]]
text = "async: S4 higher than sync"
metric = "acc.S4"
variant = "async"
expect = "higher"
`

// miniFixture writes experiments/mini.toml and a runs.db holding its runs
// at the smoke profile (through the store's API) into a fresh directory,
// makes it the working directory, and returns the db path.
func miniFixture(t *testing.T) string {
	t.Helper()
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
	db := filepath.Join(dir, "runs.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := reporttest.WriteDB(context.Background(), st, reporttest.Synthesize(report.StudySpec(study), cfgs)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	return db
}

// runVerb runs the CLI with args and returns stdout, stderr and the exit code.
func runVerb(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb,
		Getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

func TestTableVerb(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	db := miniFixture(t)
	out, errs, code := runVerb(t, "table", "mini", "--format", "md", "--profile", "smoke", "--db", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	t.Chdir(wd) // golden files live beside the test
	goldenFile(t, "table-mini.md", []byte(out))
}

func TestTableVerbFormats(t *testing.T) {
	db := miniFixture(t)
	for _, c := range []struct {
		name  string
		args  []string
		check func(t *testing.T, out string)
	}{
		{"json by path", []string{"table", filepath.Join("experiments", "mini.toml"), "--format=json", "--profile=smoke", "--db", db},
			func(t *testing.T, out string) {
				var v struct {
					Study  string
					Rows   []struct{ Variant string }
					Claims []struct{ Verdict string }
				}
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatal(err)
				}
				if v.Study != "mini" || len(v.Rows) != 2 || len(v.Claims) != 1 || v.Claims[0].Verdict == "" {
					t.Errorf("JSON table %+v", v)
				}
			}},
		{"csv", []string{"table", "--format", "csv", "--profile", "smoke", "--db", db, "mini"},
			func(t *testing.T, out string) {
				recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				// Four cells, then the claim with its verdict.
				if len(recs) != 1+2*2+1 || recs[1][2] != "sync" || recs[1][5] != "3" || recs[1][20] != "cell" {
					t.Fatalf("CSV: %q", recs)
				}
				if c := recs[5]; c[20] != "claim" || c[21] != "async: S4 higher than sync" || c[33] == "" {
					t.Errorf("CSV claim row: %q", c)
				}
			}},
		{"latex", []string{"table", "mini", "--format", "latex", "--profile", "smoke", "--db", db},
			func(t *testing.T, out string) {
				if !strings.Contains(out, `\toprule`) || !strings.Contains(out, `\bottomrule`) {
					t.Errorf("no booktabs table:\n%s", out)
				}
			}},
		{"term, two studies", []string{"table", "mini", "mini", "--profile", "smoke", "--db", db},
			func(t *testing.T, out string) {
				if strings.Count(out, "Mini: sync vs async") != 2 || strings.Contains(out, "\x1b[") {
					t.Errorf("want two plain tables:\n%s", out)
				}
			}},
		{"default profile has no runs: the one that has is picked and said first", []string{"table", "mini", "--db", db},
			func(t *testing.T, out string) {
				lines := strings.Split(out, "\n")
				if !strings.HasPrefix(lines[1], "profile smoke: the study's own profile quick has no finished runs; smoke has 6") ||
					!strings.Contains(out, "(3) │") || strings.Contains(out, "— (0)") {
					t.Errorf("want smoke's runs, said under the heading:\n%s", out)
				}
			}},
		{"empty profile explained at the top", []string{"table", "mini", "--profile", "paper", "--db", db},
			func(t *testing.T, out string) {
				lines := strings.Split(out, "\n")
				if !strings.HasPrefix(lines[1], "no finished runs of study mini at profile paper yet") ||
					!strings.HasPrefix(lines[2], "6 finished run(s) of profile smoke: add --profile smoke") || !strings.Contains(out, "— (0)") {
					t.Errorf("want empty cells explained first, with a hint:\n%s", out)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := runVerb(t, c.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			c.check(t, out)
		})
	}
}

// Terminal tables fit $COLUMNS: no line is wider, and the claims table
// (wider than 120 columns unfitted) wraps rather than runs off the screen.
func TestTableVerbColumns(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	db := miniFixture(t)
	outs := map[int]string{}
	for _, cols := range []int{80, 120} {
		var out, errb bytes.Buffer
		env := func(k string) string {
			if k == "COLUMNS" {
				return strconv.Itoa(cols)
			}
			return ""
		}
		if code := runMain(context.Background(), []string{"table", "mini", "--profile", "smoke", "--db", db},
			IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: env}); code != 0 {
			t.Fatalf("COLUMNS=%d: exit %d: %s", cols, code, errb.String())
		}
		for _, l := range strings.Split(out.String(), "\n") {
			if w := ansi.StringWidth(l); w > cols {
				t.Errorf("COLUMNS=%d: a line of %d columns: %q", cols, w, l)
			}
		}
		outs[cols] = out.String()
	}
	out, _, _ := runVerb(t, "table", "mini", "--profile", "smoke", "--db", db)
	widest := 0
	for _, l := range strings.Split(out, "\n") {
		widest = max(widest, ansi.StringWidth(l))
	}
	if widest <= 120 {
		t.Errorf("unfitted, the widest line is %d columns: the test no longer tests fitting", widest)
	}
	t.Chdir(wd)
	goldenFile(t, "table-mini.80.txt", []byte(outs[80]))
	goldenFile(t, "table-mini.120.txt", []byte(outs[120]))
}

// A name found neither in experiments/ nor in the database, from a
// directory without experiments/, says where names are looked up.
func TestTableVerbNoExperimentsDir(t *testing.T) {
	db := miniFixture(t)
	dir := t.TempDir()
	t.Chdir(dir)
	_, errs, code := runVerb(t, "table", "nope", "--db", db)
	if code == 0 || !strings.Contains(errs, "looked up in experiments/ under the current directory ("+dir+"), which has none") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

// A study with no spec file is read from the spec text runs.db recorded.
func TestTableVerbStudyFromDB(t *testing.T) {
	db := miniFixture(t)
	if err := os.Remove(filepath.Join("experiments", "mini.toml")); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutStudy(context.Background(), store.Study{Name: "mini", Title: "Mini", Spec: miniSpec, SpecHash: "x"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, errs, code := runVerb(t, "table", "mini", "--profile", "smoke", "--db", db, "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "mini,table10,async,,acc.S4,3,") {
		t.Errorf("no async S4 cell over 3 seeds:\n%s", out)
	}
}

func TestTableVerbErrors(t *testing.T) {
	db := miniFixture(t)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no study", []string{"table", "--db", db}, "name a study"},
		{"no db", []string{"table", "mini", "--db", "absent.db"}, "no runs database at absent.db"},
		{"unknown study", []string{"table", "nope", "--db", db}, `no study "nope" in experiments (available: mini)`},
		{"bad name", []string{"table", "a b", "--db", db}, `name "a b"`},
		{"bad format", []string{"table", "mini", "--format", "xls", "--db", db}, `unknown table format "xls"`},
		{"bad profile", []string{"table", "mini", "--profile", "huge", "--db", db}, "huge"},
		{"plot bad format", []string{"plot", "mini", "--format", "gif", "--db", db}, `unknown plot format "gif"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, errs, code := runVerb(t, c.args...)
			if code == 0 || !strings.Contains(errs, c.want) {
				t.Fatalf("exit %d, stderr %q; want failure saying %q", code, errs, c.want)
			}
		})
	}
}

func TestPlotVerb(t *testing.T) {
	db := miniFixture(t)
	out, errs, code := runVerb(t, "plot", "mini", "--profile", "smoke", "--db", db, "--out", "figs", "--format", "png,svg")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, name := range []string{"mini-curves.png", "mini-curves.svg", "mini-bars.png", "mini-bars.svg"} {
		path := filepath.Join("figs", name)
		if !strings.Contains(out, "wrote "+path) {
			t.Errorf("output does not list %s:\n%s", path, out)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".png") {
			if _, err := png.Decode(bytes.NewReader(data)); err != nil {
				t.Errorf("%s: %v", path, err)
			}
		}
	}
}

// Nothing to draw exits 1 with the reason, after drawing what it can; with
// no --profile, plot draws the profile that has runs and says so.
func TestPlotVerbNothingToDraw(t *testing.T) {
	db := miniFixture(t)
	out, errs, code := runVerb(t, "plot", "mini", "--profile", "paper", "--db", db, "--out", "figs", "--gradcam", "0")
	if code != 1 || !strings.Contains(errs, "plot: nothing to draw for mini (no finished runs of profile paper)") ||
		!strings.Contains(errs, "plot: mini: 6 finished run(s) of profile smoke: add --profile smoke") || out != "" {
		t.Errorf("exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
	out, errs, code = runVerb(t, "plot", "mini", "--db", db, "--out", "figs", "--gradcam", "0", "--format", "svg")
	if code != 0 || !strings.Contains(errs, "plot: mini: profile smoke: the study's own profile quick has no finished runs") ||
		!strings.Contains(out, "wrote "+filepath.Join("figs", "mini-bars.svg")) {
		t.Errorf("no profile: exit %d, stdout %q, stderr:\n%s", code, out, errs)
	}
}
