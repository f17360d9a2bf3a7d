package tui

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/experiment"
)

// runHashes are the run hashes a study expands to, by variant and seed.
func runHashes(t *testing.T, st *experiment.Study) map[string]string {
	t.Helper()
	runs, err := st.Expand(experiment.ExpandOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range runs {
		out[r.Variant+"/"+string(rune('0'+r.Seed))] = r.Hash
	}
	return out
}

// Editing any shipped study in the builder and saving it unchanged keeps
// it: the same variants (its [[variant]] list and [grid] as written), the
// same paper figures, claims, metrics, baseline and settings, and so the
// same runs (their hashes, which reuse depends on).
func TestBuilderEditKeepsShippedStudies(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(pkgDir, "..", "..", "experiments", "*.toml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shipped studies: %v", err)
	}
	f := newFixture(t)
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			orig, err := experiment.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			d := newDriver(t, f, &fakeRunner{}, screenStudies)
			b := d.builder()
			b.fill(d.m, path, false)
			p := b.plan
			if p.study == nil {
				t.Fatalf("the form does not give back the study: %v", p.errs)
			}
			if b.savePath(p.study.Name) != path {
				t.Errorf("saves to %s, want %s", b.savePath(p.study.Name), path)
			}
			got, err := experiment.Parse(path, p.text)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what      string
				got, want any
			}{
				{"variants", got.Variants, orig.Variants}, {"named", got.Named, orig.Named}, {"grid", got.Grid, orig.Grid},
				{"paper", got.Paper, orig.Paper}, {"claims", got.Claims, orig.Claims}, {"metrics", got.Metrics, orig.Metrics},
				{"baseline", got.Baseline, orig.Baseline}, {"base", got.Base, orig.Base}, {"seeds", got.Seeds, orig.Seeds},
				{"title", got.Title, orig.Title}, {"table", got.Table, orig.Table}, {"description", got.Description, orig.Description},
				{"dataset", got.Dataset, orig.Dataset}, {"backbone", got.Backbone, orig.Backbone}, {"profile", got.Profile, orig.Profile},
			} {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s: %v, want %v", c.what, c.got, c.want)
				}
			}
			if !reflect.DeepEqual(runHashes(t, got), runHashes(t, orig)) {
				t.Error("the runs differ from the original's")
			}
		})
	}
}

// e edits the study in place (saving back to its file after a
// confirmation); c copies it under a new name, variants, figures and claims
// included; turning a variant off drops it and its runs; crossing the axes
// instead says that the figures and claims are dropped.
func TestBuilderEditAndCopy(t *testing.T) {
	f := newFixture(t)
	orig, err := experiment.Load(filepath.Join("experiments", "fixture.toml"))
	must(t, err)

	d := newDriver(t, f, &fakeRunner{}, screenStudies)
	d.press("j", "e")
	b := d.builder()
	if d.m.active != screenBuilder || b.editPath != filepath.Join("experiments", "fixture.toml") || b.field(fName).value() != "fixture" {
		t.Fatalf("e: screen %d, editing %q as %q", d.m.active+1, b.editPath, b.field(fName).value())
	}
	if !strings.Contains(d.m.status, "2 variant(s), 0 paper figure(s), 1 claim(s) kept") {
		t.Errorf("status %q", d.m.status)
	}
	// Seeds 1,2,3 -> 1,2; then save: the file differs, so it asks.
	d.press("down", "down", "down", "down", "enter", "backspace", "backspace", "esc", "ctrl+s")
	if d.m.confirm == nil || !strings.Contains(d.m.confirm.prompt, "Replace experiments/fixture.toml") {
		t.Fatalf("no replace question: %+v", d.m.confirm)
	}
	d.press("y")
	saved, err := experiment.Load(filepath.Join("experiments", "fixture.toml"))
	must(t, err)
	if !reflect.DeepEqual(saved.Seeds, []int64{1, 2}) || !reflect.DeepEqual(saved.Variants, orig.Variants) ||
		!reflect.DeepEqual(saved.Claims, orig.Claims) || !reflect.DeepEqual(saved.Metrics, orig.Metrics) || saved.Table != orig.Table {
		t.Errorf("saved %+v\nwant the fixture with seeds 1,2", saved)
	}

	d = newDriver(t, f, &fakeRunner{}, screenStudies)
	d.press("j", "c")
	b = d.builder()
	if b.editPath != "" || b.field(fName).value() != "fixture-copy" {
		t.Fatalf("c: editing %q as %q", b.editPath, b.field(fName).value())
	}
	d.press("ctrl+s")
	cp, err := experiment.Load(filepath.Join("experiments", "fixture-copy.toml"))
	must(t, err)
	if !reflect.DeepEqual(cp.Variants, orig.Variants) || !reflect.DeepEqual(cp.Claims, orig.Claims) || cp.Title != orig.Title {
		t.Errorf("copy %+v", cp)
	}

	// Turn the two-step variant off: the fixture's claim names it, so the
	// parser refuses; the baseline off is refused too.
	for i := range b.fields {
		if b.fields[i].key == fVariants {
			b.focus = i
		}
	}
	d.press("right", "space")
	if b.plan.study != nil || !strings.Contains(strings.Join(b.plan.errs, " "), "two-step") {
		t.Errorf("two-step off: plan errors %v", b.plan.errs)
	}
	d.press("space", "left", "space")
	if b.plan.study != nil || !strings.Contains(strings.Join(b.plan.errs, " "), "baseline baseline is off") {
		t.Errorf("baseline off: plan errors %v", b.plan.errs)
	}
	d.press("space")
	if b.plan.study == nil || len(b.plan.study.Variants) != 2 {
		t.Fatalf("both on again: %v", b.plan.errs)
	}
	// Cross the axes instead: the figures and claims cannot follow.
	d.press("down", "right")
	if b.fromList() || b.plan.study == nil || len(b.plan.study.Claims) != 0 {
		t.Fatalf("axes: from list %v, plan %v", b.fromList(), b.plan.errs)
	}
	if v := b.view(d.m, 80, 40); !strings.Contains(v, "drops fixture's 0 paper figure(s) and 1 claim(s)") {
		t.Errorf("no note about the dropped claims:\n%s", v)
	}
}

// The builder's metrics field names what a study tabulates; a study built
// there keeps it.
func TestBuilderMetrics(t *testing.T) {
	b := &builderScreen{specDir: t.TempDir()}
	b.clear()
	b.field(fName).input.SetValue("abl-metrics")
	p := planStudy(b, []throughputSample{})
	if p.study == nil || !slices.Equal(p.study.Metrics, []string{"acc.S3", "acc.S4"}) {
		t.Fatalf("default metrics: %v %v", p.errs, p.study)
	}
	b.field(fMetrics).input.SetValue("acc.S4, acc.S3+S4, params.total")
	p = planStudy(b, []throughputSample{})
	if p.study == nil {
		t.Fatal(p.errs)
	}
	st, err := experiment.Parse("x.toml", p.text)
	must(t, err)
	if !slices.Equal(st.Metrics, []string{"acc.S4", "acc.S3+S4", "params.total"}) {
		t.Errorf("saved metrics %v", st.Metrics)
	}
	for _, bad := range []string{"", "acc.S9", "acc.S4, acc.S4"} {
		b.field(fMetrics).input.SetValue(bad)
		if p := planStudy(b, []throughputSample{}); p.study != nil {
			t.Errorf("metrics %q accepted", bad)
		}
	}
}

// TestBuilderEdit is the builder editing the fixture study: its variant
// list instead of the axes, figures and claims kept.
func TestBuilderEdit(t *testing.T) {
	f := newFixture(t)
	s := start(t, f, &fakeRunner{}, screenStudies)
	s.waitFor("fixture")
	s.keys("j", "e")
	s.waitFor("Edit experiments/fixture.toml", "1 claim(s)")
	s.keys("down", "down", "down", "down", "down", "down")
	s.until("variants focused", func(m *Model) bool {
		b := m.screens[screenBuilder].(*builderScreen)
		return b.fields[b.focus].key == fVariants
	})
	shot := s.snapshot()
	s.finish()
	if _, err := os.Stat(filepath.Join("experiments", "fixture-copy.toml")); err == nil {
		t.Error("editing wrote a copy")
	}
	requireScreen(t, shot)
}
