package experiment

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/runspec"
)

func TestValidName(t *testing.T) {
	for _, ok := range []string{"table9", "fig3-temperature", "two_step", "A1", "9"} {
		if err := ValidName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "_x", "a/b", "../x", "a b", "a.toml", "é", strings.Repeat("a", 65), `a\b`} {
		if err := ValidName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestValidLabel(t *testing.T) {
	for _, ok := range []string{"two-step", "temperature=2.5", "two-step,widths=[8 16 32 64]", "mode=async,lr=0.001", "acc+x"} {
		if err := ValidLabel(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "=x", ",", "a/b", "a\nb", "a ", "a\"b", strings.Repeat("a", 101)} {
		if err := ValidLabel(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	write := func(file, src string) {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("table9.toml", "name = \"table9\"\ntable = \"table9\"\nseeds = [1]\n[[variant]]\nlabel = \"a\"\n")
	write("fig3-temperature.toml", "name = \"fig3-temperature\"\ntable = \"fig3\"\nseeds = [1]\n[[variant]]\nlabel = \"a\"\n")
	write("renamed.toml", "name = \"mine\"\nseeds = [1]\n[[variant]]\nlabel = \"a\"\n")
	write("broken.toml", "name = ")
	cases := []struct{ in, want, err string }{
		{"table9", filepath.Join(dir, "table9.toml"), ""},
		{"fig3", filepath.Join(dir, "fig3-temperature.toml"), ""},
		{"mine", filepath.Join(dir, "renamed.toml"), ""},
		{filepath.Join(dir, "renamed.toml"), filepath.Join(dir, "renamed.toml"), ""},
		{"tabel9", "", `no study "tabel9" in ` + dir + `; did you mean "table9"? (available: fig3-temperature, mine, table9)`},
		{"../etc", "", "no such file"},
		{"a b", "", `study: name "a b": ' ' is not allowed`},
		{"missing.toml", "", "no such file"},
		{"renamed.toml", filepath.Join(dir, "renamed.toml"), ""},
	}
	for _, c := range cases {
		got, err := Resolve(c.in, dir)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if got, err := Resolve("table9", shippedDir); err != nil || got != filepath.Join(shippedDir, "table9.toml") {
		t.Errorf("shipped table9: %q %v", got, err)
	}
}

// TestProfiles: every profile's settings pass the same checks as a spec's.
func TestProfiles(t *testing.T) {
	if got := strings.Join(ProfileNames(), " "); got != "smoke quick paper" {
		t.Fatalf("profiles %s", got)
	}
	for _, p := range Profiles() {
		for k, v := range p.Overrides {
			if _, msg, _ := checkOverride(k, v); msg != "" {
				t.Errorf("profile %s: %s: %s", p.Name, k, msg)
			}
		}
		if spec, err := withProfileData("synthetic", p); err != nil || checkDatasetSpec(spec) != nil {
			t.Errorf("profile %s: data %q: %v", p.Name, spec, err)
		}
		if p.Description == "" {
			t.Errorf("profile %s has no description", p.Name)
		}
		cfg := buildConfig(p, "", "", nil, nil)
		if err := validateConfig(cfg); err != nil {
			t.Errorf("profile %s: %v", p.Name, err)
		}
	}
	// Lookups return copies.
	p, _ := LookupProfile("smoke")
	p.Overrides["epochs"] = 99
	if q, _ := LookupProfile("smoke"); q.Overrides["epochs"] == 99 {
		t.Error("LookupProfile shares its map")
	}
	if _, err := LookupProfile("smok"); err == nil || !strings.Contains(err.Error(), `did you mean "smoke"?`) {
		t.Errorf("unknown profile: %v", err)
	}
	// Sizes grow from smoke to paper.
	sm, qu, pa := Profiles()[0], Profiles()[1], Profiles()[2]
	if !(sm.Overrides["epochs"].(int) < qu.Overrides["epochs"].(int) && qu.Overrides["epochs"].(int) < pa.Overrides["epochs"].(int)) {
		t.Error("epochs do not grow smoke < quick < paper")
	}
}

func TestMetricValue(t *testing.T) {
	sum := map[string]float64{
		runspec.KeyAccS4: 80, runspec.FlipKey("vflip", "S4"): 71.5,
		runspec.KeyParamsInference: 1000, runspec.KeyParamsExtra: 11,
	}
	cases := []struct {
		key  string
		want float64
		ok   bool
	}{
		{"acc.S4", 80, true},
		{"drop.vflip.S4", 8.5, true},
		{"params.total", 1011, true},
		{"acc.S3", 0, false},
		{"flops.total", 0, false},
		{"drop.hflip.S4", 0, false},
	}
	for _, c := range cases {
		got, ok := MetricValue(c.key, sum)
		if ok != c.ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: %v %v, want %v %v", c.key, got, ok, c.want, c.ok)
		}
	}
	for _, k := range MetricKeys() {
		if !KnownMetric(k) {
			t.Errorf("%s listed but not known", k)
		}
	}
	if KnownMetric("acc.S5") || KnownMetric("loss.kd") {
		t.Error("unknown metric accepted")
	}
}

func TestSuggest(t *testing.T) {
	cands := []string{"temperature", "steps", "seeds", "expect", "acc.S4", "acc.S3"}
	for in, want := range map[string]string{
		"temprature": "temperature", "step": "steps", "expectation": "expect",
		"acc.s4": "acc.S4", "zzz": "", "x": "",
	} {
		if got := suggest(in, cands); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}
