package experiment

import (
	"errors"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/runspec"
)

func mustParse(t *testing.T, src string) *Study {
	t.Helper()
	s, err := Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func expand(t *testing.T, s *Study, o ExpandOptions) []RunSpec {
	t.Helper()
	runs, err := s.Expand(o)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

// TestExpandPrecedence: defaults ← profile ← study ← [base] ← variant ← seed.
func TestExpandPrecedence(t *testing.T) {
	s := mustParse(t, `name = "p"
seeds = [5, 6]
profile = "smoke"
backbone = "resnet"
[base]
epochs = 3
temperature = 2.0
[[variant]]
label = "a"
temperature = 4.0
[[variant]]
label = "b"
`)
	smoke, _ := LookupProfile("smoke")
	def := runspec.DefaultConfig()
	runs := expand(t, s, ExpandOptions{})
	if len(runs) != 4 {
		t.Fatalf("%d runs", len(runs))
	}
	order := []string{}
	for _, r := range runs {
		order = append(order, r.Variant+"/"+itoa64(r.Seed))
	}
	if got := strings.Join(order, " "); got != "a/5 a/6 b/5 b/6" {
		t.Errorf("order %s", got)
	}
	a, b := runs[0].Config, runs[2].Config
	checks := []struct {
		what      string
		got, want any
	}{
		{"profile (study's own) sets batch size", a.BatchSize, smoke.Overrides["batch_size"]},
		{"profile sets widths", a.Widths[0], smoke.Overrides["widths"].([]int)[0]},
		{"[base] beats the profile's epochs", a.Epochs, 3},
		{"variant beats [base]", a.Temperature, 4.0},
		{"[base] applies where the variant is silent", b.Temperature, 2.0},
		{"defaults fill the rest", a.LR, def.LR},
		{"seed", runs[1].Config.Seed, int64(6)},
		{"profile name", runs[0].Profile, "smoke"},
		{"profile's data set size", a.Dataset, "synthetic:classes=" + smoke.Data["classes"] + ",test=" + smoke.Data["test"] + ",train=" + smoke.Data["train"]},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}

	// Options override the study's profile, seeds and data set.
	runs = expand(t, s, ExpandOptions{Profile: "quick", Seeds: []int64{9}, Dataset: "synthetic:classes=3"})
	if len(runs) != 2 || runs[0].Seed != 9 || runs[0].Profile != "quick" {
		t.Fatalf("runs %+v", runs[0])
	}
	quick, _ := LookupProfile("quick")
	if got := runs[0].Config.Dataset; got != "synthetic:classes=3,test="+quick.Data["test"]+",train="+quick.Data["train"] {
		t.Errorf("data set %q: the spec's own keys win over the profile's, keys sorted", got)
	}
	if runs[0].Config.Epochs != 3 || runs[0].Config.BatchSize != quick.Overrides["batch_size"] {
		t.Errorf("epochs %d batch %d", runs[0].Config.Epochs, runs[0].Config.BatchSize)
	}

	// A study without a profile gets the default.
	s.Profile = ""
	if r := expand(t, s, ExpandOptions{}); r[0].Profile != DefaultProfile {
		t.Errorf("profile %q", r[0].Profile)
	}
}

func itoa64(n int64) string { return Params(runspec.Config{Seed: n})["seed"] }

func TestExpandDataSets(t *testing.T) {
	s := mustParse(t, "name = \"d\"\nseeds = [1]\ndataset = \"cub:/data/CUB_200_2011\"\n[[variant]]\nlabel = \"a\"\n")
	var asked []string
	fp := func(spec string) (string, error) { asked = append(asked, spec); return "fp-" + spec, nil }
	runs := expand(t, s, ExpandOptions{Profile: "quick", Fingerprint: fp})
	if runs[0].Config.Dataset != "cub:/data/CUB_200_2011" {
		t.Errorf("quick uses a real data set as it is, got %q", runs[0].Config.Dataset)
	}
	if len(asked) != 1 || runs[0].DataFingerprint != "fp-cub:/data/CUB_200_2011" {
		t.Errorf("fingerprint asked %v, got %q", asked, runs[0].DataFingerprint)
	}
	// smoke takes a few images per class of a real set; the spec's own keys win.
	runs = expand(t, s, ExpandOptions{Profile: "smoke", Dataset: "cub:/data/a,b,train_per_class=5"})
	if got := runs[0].Config.Dataset; got != "cub:/data/a,b,test_per_class=2,train_per_class=5" {
		t.Errorf("smoke on a real set: %q", got)
	}
	boom := errors.New("no such directory")
	_, err := s.Expand(ExpandOptions{Fingerprint: func(string) (string, error) { return "", boom }})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "study d: data set cub:/data/CUB_200_2011") {
		t.Errorf("error %v", err)
	}
	if _, err := s.Expand(ExpandOptions{Dataset: "mnist"}); err == nil || !strings.Contains(err.Error(), `unknown kind "mnist"`) {
		t.Errorf("bad --dataset: %v", err)
	}
}

func TestExpandErrors(t *testing.T) {
	s := mustParse(t, "name = \"e\"\nseeds = [1]\n[[variant]]\nlabel = \"a\"\nbackbone = \"swin\"\nheads = [1, 2, 4, 256]\n")
	cases := []struct {
		o    ExpandOptions
		want string
	}{
		{ExpandOptions{Profile: "fast"}, `study e: unknown profile "fast" (allowed: [smoke quick paper])`},
		{ExpandOptions{Seeds: []int64{}}, "study e: no seeds to run"},
		{ExpandOptions{Seeds: []int64{3, 3}}, "study e: --seeds: seed 3 is given twice"},
		// The smoke profile narrows the swin to embed_dim 8: stage S4 has 64
		// channels, which 256 heads cannot split.
		{ExpandOptions{Profile: "smoke"}, `study e, variant "a", profile smoke: heads: stage S4 has dimension 64 (embed_dim 8 × 8), which 256 heads do not divide`},
	}
	for _, c := range cases {
		_, err := s.Expand(c.o)
		if err == nil || err.Error() != c.want {
			t.Errorf("%+v:\n got %v\nwant %s", c.o, err, c.want)
		}
	}
	if _, err := s.Expand(ExpandOptions{Profile: "quick"}); err != nil {
		t.Errorf("quick: %v", err)
	}
}

// TestHash: the hash follows the effective config, the data fingerprint and
// the code version, and nothing else.
func TestHash(t *testing.T) {
	one := func(src string, o ExpandOptions) RunSpec {
		t.Helper()
		return expand(t, mustParse(t, src), o)[0]
	}
	const a = "name = \"a\"\nseeds = [1]\n[[variant]]\nlabel = \"x\"\nsteps = 2\n"
	base := one(a, ExpandOptions{CodeVersion: "c1"})
	same := []struct {
		what string
		src  string
	}{
		{"another study name and label", "name = \"other\"\nseeds = [1, 2]\n[[variant]]\nlabel = \"y\"\n"},
		{"settings written in [base]", "name = \"b\"\nseeds = [1]\n[base]\nsteps = 2\nmode = \"sync\"\n[[variant]]\nlabel = \"y\"\ntemperature = 1.0\n"},
		{"a grid", "name = \"g\"\nseeds = [1]\n[grid]\ntemperature = [1, 3]\n"},
	}
	for _, c := range same {
		if r := one(c.src, ExpandOptions{CodeVersion: "c1"}); r.Hash != base.Hash {
			t.Errorf("%s: hash differs\n%s\n%s", c.what, r.ConfigJSON, base.ConfigJSON)
		}
	}
	differ := []struct {
		what string
		r    RunSpec
	}{
		{"code version", one(a, ExpandOptions{CodeVersion: "c2"})},
		{"seed", one(a, ExpandOptions{CodeVersion: "c1", Seeds: []int64{2}})},
		{"profile", one(a, ExpandOptions{CodeVersion: "c1", Profile: "smoke"})},
		{"data fingerprint", one(a, ExpandOptions{CodeVersion: "c1", Fingerprint: func(s string) (string, error) { return "other", nil }})},
		{"temperature", one("name = \"a\"\nseeds = [1]\n[[variant]]\nlabel = \"x\"\ntemperature = 2.0\n", ExpandOptions{CodeVersion: "c1"})},
	}
	for _, c := range differ {
		if c.r.Hash == base.Hash {
			t.Errorf("%s does not change the hash", c.what)
		}
	}
	if len(base.Hash) != 64 || strings.Trim(base.Hash, "0123456789abcdef") != "" {
		t.Errorf("hash %q is not sha256 hex", base.Hash)
	}
}

// TestCanonical: settings without effect do not split one run in two.
func TestCanonical(t *testing.T) {
	s := mustParse(t, `name = "c"
seeds = [1]
[[variant]]
label = "baseline-a"
steps = 0
distill = "none"
[[variant]]
label = "baseline-b"
steps = 0
temperature = 4.0
lambda1 = 0.5
lambda2 = 3.0
[[variant]]
label = "nokd-a"
distill = "none"
[[variant]]
label = "nokd-b"
distill = "none"
temperature = 7.0
lambda2 = 0.1
[[variant]]
label = "feature-a"
distill = "feature"
[[variant]]
label = "feature-b"
distill = "feature"
temperature = 10.0
[[variant]]
label = "single-a"
steps = 1
[[variant]]
label = "single-b"
steps = 1
lambda1 = 2.0
`)
	runs := expand(t, s, ExpandOptions{})
	for i := 0; i < len(runs); i += 2 {
		if runs[i].Hash != runs[i+1].Hash {
			t.Errorf("%s and %s differ:\n%s\n%s", runs[i].Variant, runs[i+1].Variant, runs[i].ConfigJSON, runs[i+1].ConfigJSON)
		}
		if i > 0 && runs[i].Hash == runs[i-2].Hash {
			t.Errorf("%s and %s are merged", runs[i].Variant, runs[i-2].Variant)
		}
	}
	if c := runs[0].Config; c.Distill != "none" || c.EmbedDim != 0 || c.Heads != nil || len(c.Widths) != 4 {
		t.Errorf("baseline resnet config %+v", c)
	}
	if strings.Contains(runs[0].ConfigJSON, "embed_dim") || strings.Contains(runs[0].ConfigJSON, "heads") {
		t.Errorf("resnet config JSON carries swin settings: %s", runs[0].ConfigJSON)
	}
	// Lambda2 still matters for decision and feature distillation.
	sw := mustParse(t, "name = \"l\"\nseeds = [1]\n[grid]\nlambda2 = [1.0, 0.5]\n")
	if r := expand(t, sw, ExpandOptions{}); r[0].Hash == r[1].Hash {
		t.Error("lambda2 of a decision-KD run is dropped")
	}
}

func TestExpandSwin(t *testing.T) {
	s := mustParse(t, "name = \"s\"\nseeds = [1]\nbackbone = \"swin\"\n[[variant]]\nlabel = \"a\"\n[[variant]]\nlabel = \"r\"\nbackbone = \"resnet\"\n")
	runs := expand(t, s, ExpandOptions{Profile: "quick"})
	sw, rn := runs[0].Config, runs[1].Config
	if sw.Backbone != "swin" || !equalInts(sw.Depths, []int{2, 2, 6, 2}) || sw.Widths != nil || sw.EmbedDim != 32 {
		t.Errorf("swin config %+v: want DESIGN §2 depths 2/2/6/2 and no widths", sw)
	}
	if rn.Backbone != "resnet" || !equalInts(rn.Depths, []int{1, 1, 3, 1}) {
		t.Errorf("resnet config %+v", rn)
	}
	if runs := expand(t, s, ExpandOptions{Profile: "smoke"}); !equalInts(runs[0].Config.Depths, []int{1, 1, 1, 1}) {
		t.Errorf("smoke swin depths %v", runs[0].Config.Depths)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestParams(t *testing.T) {
	c := Canonical(runspec.DefaultConfig())
	p := Params(c)
	want := map[string]string{
		"dataset": "synthetic", "backbone": "resnet", "widths": "16,32,64,128", "depths": "1,1,3,1",
		"steps": "2", "mode": "sync", "distill": "decision", "temperature": "1", "lr": "0.002",
		"seed": "1", "label_smoothing": "0",
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	for _, k := range []string{"embed_dim", "heads", "window"} {
		if _, ok := p[k]; ok {
			t.Errorf("resnet params carry %s", k)
		}
	}
	// Every field Canonical leaves set is a param: all but the five swin
	// settings and the nine issue-12 settings, unset at their defaults.
	if len(p) != len(configFields)-5-len(AblationDefaults)-1 {
		t.Errorf("%d params for %d fields", len(p), len(configFields))
	}
}

// TestExpandDoesNotAlias: changing one run's config leaves the others and
// the study alone.
func TestExpandDoesNotAlias(t *testing.T) {
	s := mustParse(t, "name = \"n\"\nseeds = [1, 2]\n[[variant]]\nlabel = \"a\"\nwidths = [8, 8, 8, 8]\n")
	runs := expand(t, s, ExpandOptions{})
	runs[0].Config.Widths[0] = 99
	if runs[1].Config.Widths[0] != 8 || s.Variants[0].Overrides["widths"].([]int)[0] != 8 {
		t.Error("run configs share their slices")
	}
}
