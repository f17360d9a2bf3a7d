package experiment

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const shippedDir = "../../experiments"

func loadShipped(t *testing.T) []*Study {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(shippedDir, "*.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"assumptions.toml", "fig3-temperature.toml", "recipe.toml", "table10.toml", "table11.toml", "table7.toml", "table8.toml", "table9.toml"}
	var got []string
	for _, f := range files {
		got = append(got, filepath.Base(f))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("shipped specs %v, want %v", got, want)
	}
	var out []*Study
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Fatalf("%v", err)
		}
		out = append(out, s)
	}
	return out
}

// TestShippedSpecs checks every spec in experiments/ parses, names its
// table, carries the paper's figures and claims, expands under every
// profile, and survives Encode.
func TestShippedSpecs(t *testing.T) {
	for _, s := range loadShipped(t) {
		t.Run(s.Name, func(t *testing.T) {
			if base := strings.TrimSuffix(filepath.Base(s.Path), ".toml"); base != s.Name {
				t.Errorf("file %s holds study %q", s.Path, s.Name)
			}
			// assumptions and recipe are the workbench's own studies (issue
			// 12): no paper table, no paper figures, only its own claims.
			own := s.Name == "assumptions" || s.Name == "recipe"
			if !own && !slices.Contains(Tables, s.Table) || own && s.Table != "" || s.Title == "" {
				t.Errorf("table %q, title %q", s.Table, s.Title)
			}
			if !strings.HasPrefix(string(s.Source), "# ") {
				t.Errorf("no comment header explaining the study")
			}
			if !own && len(s.Paper) == 0 || len(s.Claims) == 0 {
				t.Errorf("%d paper figures, %d claims", len(s.Paper), len(s.Claims))
			}
			if len(s.Seeds) != 3 {
				t.Errorf("seeds %v: the paper studies run 3 seeds", s.Seeds)
			}
			for _, p := range Profiles() {
				runs, err := s.Expand(ExpandOptions{Profile: p.Name, CodeVersion: "test"})
				if err != nil {
					t.Fatalf("profile %s: %v", p.Name, err)
				}
				if len(runs) != len(s.Variants)*len(s.Seeds) {
					t.Errorf("profile %s: %d runs", p.Name, len(runs))
				}
				for _, r := range runs {
					if err := r.Config.Validate(); err != nil {
						t.Errorf("profile %s, %s: the trainer rejects the config: %v", p.Name, r.Variant, err)
					}
				}
			}
			enc, err := Encode(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(s.Path, enc)
			if err != nil {
				t.Fatalf("%v\n%s", err, enc)
			}
			assertSameStudy(t, s, back)
		})
	}
}

// TestShippedSharedRuns checks that a config written in several studies is
// one run: the same label means the same hash everywhere, the temperature
// sweep's T = 1 is "two-step", and the paper studies need exactly the
// fourteen distinct variants the quick profile was sized for (twelve, and
// the update-count controls baseline-x2 and baseline-x3); the workbench's
// own studies (no table) are left out of the count.
func TestShippedSharedRuns(t *testing.T) {
	studies := loadShipped(t)
	for _, prof := range ProfileNames() {
		byLabel := map[string]string{} // label -> hash at seed 1
		where := map[string]string{}
		distinct := map[string]bool{}
		for _, s := range studies {
			if s.Table == "" {
				continue
			}
			runs, err := s.Expand(ExpandOptions{Profile: prof, CodeVersion: "v1"})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				if r.Seed != 1 {
					continue
				}
				distinct[r.Hash] = true
				label := r.Variant
				if label == "temperature=1" {
					label = "two-step"
				}
				if h, ok := byLabel[label]; ok && h != r.Hash {
					t.Errorf("profile %s: variant %q of %s differs from the one in %s:\n%s", prof, r.Variant, s.Name, where[label], r.ConfigJSON)
				}
				byLabel[label], where[label] = r.Hash, s.Name
			}
		}
		if len(distinct) != 14 {
			t.Errorf("profile %s: %d distinct variants over the paper studies, want 14", prof, len(distinct))
		}
		for label, h := range byLabel {
			for other, h2 := range byLabel {
				if label < other && h == h2 {
					t.Errorf("profile %s: labels %q and %q are the same run", prof, label, other)
				}
			}
		}
	}
}

// assertSameStudy compares what a spec means (not its file or text).
func assertSameStudy(t *testing.T, a, b *Study) {
	t.Helper()
	x, y := *a, *b
	x.Path, x.Source, x.Hash = "", nil, ""
	y.Path, y.Source, y.Hash = "", nil, ""
	if !reflect.DeepEqual(x, y) {
		t.Errorf("studies differ:\n%#v\n%#v", x, y)
	}
}

// TestShippedRecipeClaims: the recipe study states its question as
// interaction claims, each recipe change's two-step gain against the
// default recipe's, with an explicit tolerance; every recipe change has one.
func TestShippedRecipeClaims(t *testing.T) {
	for _, s := range loadShipped(t) {
		if s.Name != "recipe" {
			continue
		}
		changes := map[string]bool{}
		for _, v := range s.Variants {
			if r, ok := strings.CutPrefix(v.Label, "two-step-"); ok {
				changes[r] = true
			}
		}
		for _, c := range s.Claims {
			if !c.Interaction() {
				continue
			}
			r, _ := strings.CutPrefix(c.Variant, "two-step-")
			if c.Expect != "equal" || c.Baseline != "baseline-"+r || c.Variant2 != "two-step" || c.Baseline2 != "baseline" || c.Tolerance <= 0 {
				t.Errorf("claim %q: %+v", c.Text, c)
			}
			delete(changes, r)
		}
		if len(changes) > 0 {
			t.Errorf("recipe changes without an interaction claim: %v", changes)
		}
		return
	}
	t.Fatal("no recipe study")
}
