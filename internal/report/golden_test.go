package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/report/reporttest"
	"github.com/mksmt/workbench/internal/store"
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

// fixtureDB writes every fixture study to a fresh runs.db through the
// store's API and returns the store.
func fixtureDB(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := reporttest.WriteDB(context.Background(), st, reporttest.Studies()...); err != nil {
		t.Fatal(err)
	}
	return st
}

// fixtureTables builds the table of every fixture study from a fixture
// runs.db, and checks it equals the table built from the values directly.
func fixtureTables(t *testing.T) []*report.Table {
	t.Helper()
	st := fixtureDB(t)
	var tables []*report.Table
	for _, s := range reporttest.Studies() {
		l, err := report.Load(context.Background(), st, s.Spec, report.Query{Configs: reporttest.Configs(s)})
		if err != nil {
			t.Fatalf("%s: %v", s.Spec.Name, err)
		}
		tb, err := report.Build(l.Spec, l.Results)
		if err != nil {
			t.Fatalf("%s: %v", s.Spec.Name, err)
		}
		direct, err := report.Build(s.Spec, s.Results)
		if err != nil {
			t.Fatalf("%s: %v", s.Spec.Name, err)
		}
		var a, b bytes.Buffer
		if err := report.WriteJSON(&a, tb); err != nil {
			t.Fatal(err)
		}
		if err := report.WriteJSON(&b, direct); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Fatalf("%s: the table from runs.db differs from the table of the values written\n%s\n---\n%s", s.Spec.Name, a.String(), b.String())
		}
		tables = append(tables, tb)
	}
	return tables
}

// Load picks, per variant and seed, the newest finished run with the
// spec's config; without Configs, the newest finished run of any config.
func TestLoadSelection(t *testing.T) {
	st := fixtureDB(t)
	s, _ := reporttest.ByName("table9")
	ctx := context.Background()
	first := s.Results[0]
	for _, c := range []struct {
		name    string
		q       report.Query
		want    float64
		notes   int
		results int
	}{
		{"spec configs", report.Query{Configs: reporttest.Configs(s)}, first.Summaries["acc.S4"], 1, len(s.Results)},
		{"any config", report.Query{}, first.Summaries["acc.S4"] - 50, 0, len(s.Results)},
	} {
		t.Run(c.name, func(t *testing.T) {
			l, err := report.Load(ctx, st, s.Spec, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Results) != c.results || len(l.Notes) != c.notes {
				t.Fatalf("%d results, notes %q; want %d results, %d notes", len(l.Results), l.Notes, c.results, c.notes)
			}
			for _, r := range l.Results {
				if r.Variant == first.Variant && r.Seed == first.Seed && r.Summaries["acc.S4"] != c.want {
					t.Errorf("acc.S4 of %s seed %d = %v, want %v", r.Variant, r.Seed, r.Summaries["acc.S4"], c.want)
				}
			}
		})
	}
	// Series: accuracies against epoch, losses against step; lr is left out.
	l, err := report.Load(ctx, st, s.Spec, report.Query{Configs: reporttest.Configs(s), Series: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Series) != len(s.Series) {
		t.Fatalf("%d series loaded, %d written", len(l.Series), len(s.Series))
	}
	got := report.Curves(l.Series, s.Spec.Variants)
	want := report.Curves(s.Series, s.Spec.Variants)
	if len(got) != len(want) {
		t.Fatalf("%d curves, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Variant != want[i].Variant || got[i].Metric != want[i].Metric || len(got[i].X) != len(want[i].X) {
			t.Fatalf("curve %d: %s %s %d points, want %s %s %d", i, got[i].Variant, got[i].Metric, len(got[i].X),
				want[i].Variant, want[i].Metric, len(want[i].X))
		}
		for j := range want[i].X {
			if got[i].X[j] != want[i].X[j] || math.Abs(got[i].Mean[j]-want[i].Mean[j]) > 1e-9 {
				t.Errorf("curve %s %s point %d: (%v, %v), want (%v, %v)", want[i].Variant, want[i].Metric, j,
					got[i].X[j], got[i].Mean[j], want[i].X[j], want[i].Mean[j])
			}
		}
	}
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

// StudyTable selects the runs of the profile asked for and, when there are
// none, points at the profile that has some.
func TestStudyTableProfiles(t *testing.T) {
	study, err := experiment.Parse("two.toml", []byte(`name = "two"
table = "table10"
seeds = [1, 2]
baseline = "a"
[[variant]]
label = "a"
mode = "sync"
[[variant]]
label = "b"
mode = "async"
`))
	if err != nil {
		t.Fatal(err)
	}
	cfgs, err := report.StudyConfigs(study, "smoke")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := reporttest.WriteDB(ctx, st, reporttest.Synthesize(report.StudySpec(study), cfgs)); err != nil {
		t.Fatal(err)
	}
	tb, _, err := report.StudyTable(ctx, st, study, "smoke", false)
	if err != nil {
		t.Fatal(err)
	}
	if n := tb.Row("b").Cells[tb.Column("acc.S4")].N; n != 2 {
		t.Errorf("smoke: b has %d seeds of acc.S4, want 2", n)
	}
	// No profile asked for: the study's own (quick) has no runs, so smoke's
	// are shown, and the table says so first.
	tb, _, err = report.StudyTable(ctx, st, study, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Profile != "smoke" || tb.Row("b").Cells[tb.Column("acc.S4")].N != 2 || len(tb.Headline) != 1 ||
		!strings.Contains(tb.Headline[0], "profile smoke: the study's own profile quick has no finished runs; smoke has 4 (--profile chooses)") {
		t.Errorf("no profile: want smoke picked and said, got profile %q, headline %q", tb.Profile, tb.Headline)
	}
	var b bytes.Buffer
	if err := report.Render(&b, report.Term, nil, tb); err != nil {
		t.Fatal(err)
	}
	if lines := strings.SplitN(b.String(), "\n", 3); !strings.HasPrefix(lines[1], "profile smoke:") {
		t.Errorf("the pick is not said under the heading:\n%s", b.String())
	}
	// quick asked for: empty cells, explained at the top, with a hint.
	tb, _, err = report.StudyTable(ctx, st, study, "quick", false)
	if err != nil {
		t.Fatal(err)
	}
	head := strings.Join(tb.Headline, "\n")
	if tb.Row("b").Cells[0].N != 0 || tb.Profile != "quick" || !strings.Contains(strings.Join(tb.Notes, "\n"), "profile quick") ||
		!strings.Contains(head, "no finished runs of study two at profile quick yet") ||
		!strings.Contains(head, "4 finished run(s) of profile smoke: add --profile smoke") {
		t.Errorf("quick: want empty cells and a hint, got headline:\n%s", head)
	}
	b.Reset()
	if err := report.Render(&b, report.Markdown, nil, tb); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "### two\n\n> no finished runs of study two at profile quick yet") {
		t.Errorf("Markdown does not open with the explanation:\n%s", b.String())
	}
}

// The terminal format fitted to 80 and 120 columns: no line is wider, the
// claims grid wraps (and at 80 leaves out the columns its lines repeat),
// and a verdict's words stay on one line.
func TestGoldenWidth(t *testing.T) {
	tables := fixtureTables(t)
	for _, width := range []int{80, 120} {
		for _, tb := range tables {
			t.Run(fmt.Sprintf("%s/%d", tb.Study, width), func(t *testing.T) {
				var b bytes.Buffer
				if err := report.RenderWidth(&b, report.Term, nil, width, tb); err != nil {
					t.Fatal(err)
				}
				out := b.String()
				for i, l := range strings.Split(out, "\n") {
					if w := ansi.StringWidth(l); w > width {
						t.Errorf("line %d is %d columns wide, over %d: %q", i+1, w, width, l)
					}
				}
				for _, c := range tb.Claims {
					v, _, _ := strings.Cut(string(c.Verdict), " (")
					if !strings.Contains(out, "│ "+v+" ") {
						t.Errorf("verdict %q of %q is not whole in a cell", c.Verdict, c.Text)
					}
				}
				golden(t, fmt.Sprintf("%s.%d.txt", tb.Study, width), b.Bytes())
			})
		}
	}
}
