package report_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/report/reporttest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
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
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// fixtureTables builds the table of every fixture study.
func fixtureTables(t *testing.T) []*report.Table {
	t.Helper()
	var tables []*report.Table
	for _, s := range reporttest.Studies() {
		tb, err := report.Build(s.Spec, s.Results)
		if err != nil {
			t.Fatalf("%s: %v", s.Spec.Name, err)
		}
		tables = append(tables, tb)
	}
	return tables
}

func TestGoldenFormats(t *testing.T) {
	for _, tb := range fixtureTables(t) {
		for _, f := range report.Formats {
			t.Run(tb.Study+"/"+string(f), func(t *testing.T) {
				var b bytes.Buffer
				if err := report.Render(&b, f, nil, tb); err != nil {
					t.Fatal(err)
				}
				golden(t, tb.Study+"."+f.Ext(), b.Bytes())
			})
		}
	}
}

// The terminal format in colour: verdicts are green, red and yellow.
func TestGoldenTermColour(t *testing.T) {
	tables := fixtureTables(t)
	r := lipgloss.NewRenderer(&bytes.Buffer{})
	r.SetColorProfile(termenv.ANSI)
	var b bytes.Buffer
	if err := report.WriteTerm(&b, tables[2], r); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b.Bytes(), []byte("\x1b[")) {
		t.Fatal("ANSI profile produced no escape codes")
	}
	golden(t, "table9.ansi.txt", b.Bytes())
}

// Several tables: CSV shares one header, JSON is an array.
func TestGoldenMany(t *testing.T) {
	tables := fixtureTables(t)
	var csv, js bytes.Buffer
	if err := report.Render(&csv, report.CSV, nil, tables...); err != nil {
		t.Fatal(err)
	}
	golden(t, "all.csv", csv.Bytes())
	if err := report.Render(&js, report.JSON, nil, tables...); err != nil {
		t.Fatal(err)
	}
	var arr []map[string]any
	if err := json.Unmarshal(js.Bytes(), &arr); err != nil {
		t.Fatalf("JSON of several tables: %v", err)
	}
	if len(arr) != len(tables) {
		t.Fatalf("JSON array has %d tables, want %d", len(arr), len(tables))
	}
}

// Incomplete data: a variant with one seed, one with none, a run of a
// variant the study does not list, a claim with a single paired seed.
func TestGoldenIncomplete(t *testing.T) {
	s, _ := reporttest.ByName("table10")
	spec := s.Spec
	spec.Variants = append(spec.Variants, "async-T2")
	var rs []report.RunResult
	for _, r := range s.Results {
		if r.Variant == "async" && r.Seed != 2 {
			continue
		}
		rs = append(rs, r)
	}
	rs = append(rs, report.RunResult{Variant: "stray", Seed: 1, Summaries: map[string]float64{"acc.S4": 1}})
	tb, err := report.Build(spec, rs)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []report.Format{report.Term, report.Markdown, report.JSON} {
		var b bytes.Buffer
		if err := report.Render(&b, f, nil, tb); err != nil {
			t.Fatal(err)
		}
		golden(t, "incomplete."+f.Ext(), b.Bytes())
	}
}
