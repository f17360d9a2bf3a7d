package experiment

import (
	"errors"
	"strings"
	"testing"
)

// head is the top of a valid spec; cases append to it. It is 4 lines long,
// so a case's first own line is line 5.
const head = `name = "t"
seeds = [1, 2]
metrics = ["acc.S3", "acc.S4"]
baseline = "a"
`

const twoVariants = `
[[variant]]
label = "a"
steps = 2

[[variant]]
label = "b"
steps = 1
`

func TestParseValid(t *testing.T) {
	s, err := Parse("ok.toml", []byte(head+twoVariants+`
[base]
temperature = 2
widths = [8, 16, 32, 64]
`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "t" || s.Baseline != "a" || len(s.Seeds) != 2 || s.Seeds[1] != 2 {
		t.Errorf("top level: %+v", s)
	}
	if got := s.Labels(); strings.Join(got, " ") != "a b" {
		t.Errorf("labels %v", got)
	}
	if v, _ := s.Base["temperature"].(float64); v != 2 {
		t.Errorf("base temperature %v (%T): an integer must become a float64", s.Base["temperature"], s.Base["temperature"])
	}
	if v, _ := s.Variants[0].Overrides["steps"].(int); v != 2 {
		t.Errorf("steps %v (%T): want int 2", s.Variants[0].Overrides["steps"], s.Variants[0].Overrides["steps"])
	}
	if w, _ := s.Base["widths"].([]int); len(w) != 4 || w[3] != 64 {
		t.Errorf("widths %v (%T)", s.Base["widths"], s.Base["widths"])
	}
	if s.Hash != hashText(s.Source) || len(s.Hash) != 64 {
		t.Errorf("hash %q", s.Hash)
	}
}

func TestParseDefaults(t *testing.T) {
	s, err := Parse("", []byte("name = \"d\"\nseeds = [7]\n[[variant]]\nlabel = \"only\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Baseline != "only" {
		t.Errorf("baseline defaults to the first variant, got %q", s.Baseline)
	}
	if len(s.Metrics) != 1 || s.Metrics[0] != "acc.S4" {
		t.Errorf("metrics default %v", s.Metrics)
	}
}

const gridSpec = `name = "g"
seeds = [1]
[[variant]]
label = "two-step"
[[variant]]
label = "async"
mode = "async"
[grid]
temperature = [1, 2.5]
lr = [0.001, 0.002]
`

func TestParseGrid(t *testing.T) {
	s, err := Parse("g.toml", []byte(gridSpec))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"two-step,temperature=1,lr=0.001", "two-step,temperature=1,lr=0.002",
		"two-step,temperature=2.5,lr=0.001", "two-step,temperature=2.5,lr=0.002",
		"async,temperature=1,lr=0.001", "async,temperature=1,lr=0.002",
		"async,temperature=2.5,lr=0.001", "async,temperature=2.5,lr=0.002",
	}
	if got := strings.Join(s.Labels(), " "); got != strings.Join(want, " ") {
		t.Errorf("labels\n got %s\nwant %s", got, strings.Join(want, " "))
	}
	v, _ := s.Variant("async,temperature=2.5,lr=0.002")
	if v.Overrides["mode"] != "async" || v.Overrides["temperature"] != 2.5 || v.Overrides["lr"] != 0.002 {
		t.Errorf("overrides %v", v.Overrides)
	}
	if s.Baseline != want[0] {
		t.Errorf("baseline %q", s.Baseline)
	}
}

// TestParseErrors gives each bad input its exact message: file, line, field,
// what is wrong and what is allowed.
func TestParseErrors(t *testing.T) {
	for _, c := range parseErrorCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("bad.toml", []byte(c.src))
			if err == nil {
				t.Fatalf("no error for\n%s", c.src)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList: %v", err, err)
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("messages\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(c.want, "\n      "))
			}
			if len(list) != len(got) {
				t.Errorf("%d errors in the list, %d lines", len(list), len(got))
			}
		})
	}
}

// parseErrorCases are bad specs and every message each must give; they also
// seed the fuzz corpus.
var parseErrorCases = []struct {
	name, src string
	want      []string // every message, in order
}{
	{"syntax", head + "steps = = 2\n",
		[]string{"bad.toml:5: TOML syntax: expected value but found '=' instead"}},
	{"unknown top key", head + "seed = [1]\n" + twoVariants,
		[]string{`bad.toml:5: seed: unknown key; did you mean "seeds"?`}},
	{"top key after a table", head + twoVariants + "seed = [1]\n",
		[]string{"bad.toml:13: variant[2].seed: cannot be set here: set seeds = [...] at the top of the spec"}},
	{"config key at top", head + "steps = 2\n" + twoVariants,
		[]string{"bad.toml:5: steps: unknown key; train settings belong in [base], a [[variant]] or [grid]"}},
	{"unknown setting", head + twoVariants + "\n[base]\ntemprature = 2.0\n",
		[]string{`bad.toml:15: base.temprature: unknown setting; did you mean "temperature"?`}},
	{"top key inside base", head + twoVariants + "\n[base]\nprofile = \"quick\"\n",
		[]string{"bad.toml:15: base.profile: profile is a top-level key, but here it is inside base: move it above the first [table]"}},
	{"seed in variant", head + "\n[[variant]]\nlabel = \"a\"\nseed = 3\n",
		[]string{"bad.toml:8: variant[1].seed: cannot be set here: set seeds = [...] at the top of the spec"}},
	{"dataset in base", head + twoVariants + "\n[base]\ndataset = \"synthetic\"\n",
		[]string{"bad.toml:15: base.dataset: cannot be set here: the data set is a study default: set dataset at the top of the spec (or pass --dataset)"}},
	{"wrong type string", head + "\n[[variant]]\nlabel = \"a\"\nsteps = \"2\"\n",
		[]string{`bad.toml:8: variant[1].steps: expected an integer, got the string "2"`}},
	{"float for int", head + "\n[[variant]]\nlabel = \"a\"\nepochs = 2.0\n",
		[]string{"bad.toml:8: variant[1].epochs: expected an integer, got the float 2 (write 2)"}},
	{"wrong list entry", head + "\n[[variant]]\nlabel = \"a\"\nwidths = [8, 16, \"x\", 64]\n",
		[]string{`bad.toml:8: variant[1].widths: entry 3: expected an integer, got the string "x"`}},
	{"list length", head + "\n[[variant]]\nlabel = \"a\"\ndepths = [1, 1, 3]\n",
		[]string{"bad.toml:8: variant[1].depths: has 3 entries; want one per stage S1..S4 (4)"}},
	{"steps above 3", head + "\n[[variant]]\nlabel = \"a\"\nsteps = 4\n",
		[]string{"bad.toml:8: variant[1].steps: 4 is outside 0–3 (allowed: 0, 1, 2, 3)"}},
	{"steps below 0", head + "\n[base]\nsteps = -1\n" + twoVariants,
		[]string{"bad.toml:7: base.steps: -1 is outside 0–3 (allowed: 0, 1, 2, 3)"}},
	{"temperature zero", head + "\n[[variant]]\nlabel = \"a\"\ntemperature = 0\n",
		[]string{"bad.toml:8: variant[1].temperature: 0 must be > 0"}},
	{"temperature negative", head + "\n[[variant]]\nlabel = \"a\"\ntemperature = -1.5\n",
		[]string{"bad.toml:8: variant[1].temperature: -1.5 must be > 0"}},
	{"temperature nan", head + "\n[[variant]]\nlabel = \"a\"\ntemperature = nan\n",
		[]string{"bad.toml:8: variant[1].temperature: NaN is not a finite number"}},
	{"distill", head + "\n[[variant]]\nlabel = \"a\"\ndistill = \"decison\"\n",
		[]string{`bad.toml:8: variant[1].distill: "decison" is not allowed; did you mean "decision"? (allowed: decision, feature, none)`}},
	{"mode", head + "\n[[variant]]\nlabel = \"a\"\nmode = \"parallel\"\n",
		[]string{`bad.toml:8: variant[1].mode: "parallel" is not allowed (allowed: sync, async)`}},
	{"backbone", head + "\n[base]\nbackbone = \"vit\"\n" + twoVariants,
		[]string{`bad.toml:7: base.backbone: "vit" is not allowed (allowed: resnet, swin)`}},
	{"async with one step", head + "\n[[variant]]\nlabel = \"a\"\nsteps = 1\nmode = \"async\"\n",
		[]string{`bad.toml:9: variant[1].mode: in variant "a": mode = "async" splits the last update of a multi-step schedule and needs steps >= 2, but steps = 1 (allowed: "sync" with steps 0 or 1)`}},
	{"async in base, baseline variant", head + "\n[base]\nmode = \"async\"\n\n[[variant]]\nlabel = \"a\"\nsteps = 0\n",
		[]string{`bad.toml:11: variant[1].steps: in variant "a": mode = "async" splits the last update of a multi-step schedule and needs steps >= 2, but steps = 0 (allowed: "sync" with steps 0 or 1)`}},
	{"async via grid", head + "\n[base]\nmode = \"async\"\n\n[grid]\nsteps = [0, 2]\n",
		[]string{`bad.toml:4: baseline: no variant is labelled "a" (allowed: steps=0, steps=2)`,
			`bad.toml:10: grid.steps: in variant "steps=0": mode = "async" splits the last update of a multi-step schedule and needs steps >= 2, but steps = 0 (allowed: "sync" with steps 0 or 1)`}},
	{"swin heads", head + "\n[[variant]]\nlabel = \"a\"\nbackbone = \"swin\"\nheads = [3, 2, 4, 8]\n",
		[]string{`bad.toml:9: variant[1].heads: in variant "a": stage S1 has dimension 32 (embed_dim 32 × 1), which 3 heads do not divide`}},
	{"duplicate labels", head + twoVariants + "\n[[variant]]\nlabel = \"a\"\nsteps = 3\n",
		[]string{`bad.toml:15: variant[3].label: duplicate variant label "a"`}},
	{"bad label", head + "\n[[variant]]\nlabel = \"../etc\"\n",
		[]string{`bad.toml:7: variant[1].label: label "../etc": '.' is not allowed (use letters, digits and -_.=,+[] and space, starting with a letter or digit)`}},
	{"missing label", head + "\n[[variant]]\nsteps = 2\n",
		[]string{`bad.toml:6: variant[1]: missing label: every [[variant]] needs one, e.g. label = "two-step"`}},
	{"no variants", head,
		[]string{"bad.toml: variant: no variants: add [[variant]] entries (label = ... plus settings) and/or [grid] axes"}},
	{"empty variant list", head + "variant = []\n",
		[]string{"bad.toml:5: variant: no variants: add [[variant]] entries (label = ... plus settings) and/or [grid] axes"}},
	{"empty seeds", strings.Replace(head, "seeds = [1, 2]", "seeds = []", 1) + twoVariants,
		[]string{"bad.toml:2: seeds: is empty: list at least one seed, e.g. seeds = [1, 2, 3]"}},
	{"missing seeds", strings.Replace(head, "seeds = [1, 2]\n", "", 1) + twoVariants,
		[]string{"bad.toml: seeds: missing: list the seeds to run, e.g. seeds = [1, 2, 3]"}},
	{"duplicate seed", strings.Replace(head, "seeds = [1, 2]", "seeds = [1, 2, 1]", 1) + twoVariants,
		[]string{"bad.toml:2: seeds: seed 1 appears twice"}},
	{"float seed", strings.Replace(head, "seeds = [1, 2]", "seeds = [1, 2.5]", 1) + twoVariants,
		[]string{"bad.toml:2: seeds: entry 2: expected an integer, got the float 2.5"}},
	{"unknown profile", head + "profile = \"fast\"\n" + twoVariants,
		[]string{`bad.toml:5: profile: "fast" is not allowed (allowed: smoke, quick, paper)`}},
	{"unknown metric", strings.Replace(head, `"acc.S3", "acc.S4"`, `"acc.S3", "acc.S5"`, 1) + twoVariants,
		[]string{`bad.toml:3: metrics: unknown metric "acc.S5"; did you mean "acc.S2"? (allowed: ` + strings.Join(MetricKeys(), ", ") + ")"}},
	{"empty metrics", strings.Replace(head, `["acc.S3", "acc.S4"]`, `[]`, 1) + twoVariants,
		[]string{`bad.toml:3: metrics: is empty: list the metrics to tabulate, e.g. metrics = ["acc.S4"]`}},
	{"unknown table", head + "table = \"table12\"\n" + twoVariants,
		[]string{`bad.toml:5: table: "table12" is not a paper table (allowed: table7, table8, table9, table10, table11, fig3, "" (generic))`}},
	{"dataset kind", head + "dataset = \"cub2011:/data\"\n" + twoVariants,
		[]string{`bad.toml:5: dataset: data set spec "cub2011:/data": unknown kind "cub2011" (want one of cub, dogs, fashion-mnist, imagefolder, nabirds, synthetic)`}},
	{"dataset path", head + "dataset = \"cub\"\n" + twoVariants,
		[]string{`bad.toml:5: dataset: data set spec "cub": cub needs a root directory, as in cub:PATH`}},
	{"synthetic option", head + "dataset = \"synthetic:classes\"\n" + twoVariants,
		[]string{`bad.toml:5: dataset: data set spec "synthetic:classes": option "classes" is not key=value (keys for synthetic: seed, classes, train, test, difficulty)`}},
	{"unknown baseline", strings.Replace(head, `baseline = "a"`, `baseline = "bb"`, 1) + twoVariants,
		[]string{`bad.toml:4: baseline: no variant is labelled "bb"; did you mean "b"? (allowed: a, b)`}},
	{"grid not array", head + "\n[grid]\ntemperature = 2\n",
		[]string{"bad.toml:7: grid.temperature: expected an array of values for the axis, got the integer 2"}},
	{"grid bad value", head + "\n[grid]\ntemperature = [1, 0]\n",
		[]string{"bad.toml:7: grid.temperature: value 2: 0 must be > 0"}},
	{"grid duplicate value", head + "\n[grid]\ntemperature = [1, 2, 1.0]\n",
		[]string{"bad.toml:7: grid.temperature: value 1 appears twice"}},
	{"grid unknown key", head + "\n[grid]\ntemp = [1, 2]\n",
		[]string{"bad.toml:7: grid.temp: unknown setting; did you mean \"temperature\"?"}},
	{"grid and variant set one key", head + "\n[[variant]]\nlabel = \"a\"\ntemperature = 2.0\n\n[grid]\ntemperature = [1, 2]\n",
		[]string{`bad.toml:11: grid.temperature: variant "a" also sets temperature; a key is either varied by the grid or set by variants`}},
	{"claim", head + twoVariants + "\n[[claim]]\ntext = \"a beats b\"\nmetric = \"acc.S2\"\nvariant = \"a\"\nbaseline = \"c\"\nexpect = \"better\"\n",
		[]string{`bad.toml:16: claim[1].metric: "acc.S2" is not among the study's metrics; add it to metrics so the claim's numbers are tabulated (allowed: acc.S3, acc.S4)`,
			`bad.toml:18: claim[1].baseline: no variant is labelled "c" (allowed: a, b)`,
			`bad.toml:19: claim[1].expect: "better" is not allowed (allowed: higher, lower, equal)`}},
	{"claim with itself", head + twoVariants + "\n[[claim]]\ntext = \"a beats a\"\nmetric = \"acc.S4\"\nvariant = \"a\"\nexpect = \"higher\"\n",
		[]string{`bad.toml:14: claim[1]: compares variant "a" with itself (set versus_metric to compare two of its metrics)`}},
	{"claim tolerance, delta, source", head + twoVariants + "\n[[claim]]\ntext = \"a is b\"\nmetric = \"acc.S4\"\nvariant = \"b\"\nexpect = \"equal\"\ntolerance = 0\ndelta = \"0.4\"\nsource = \"mine\"\nversus_metric = \"acc.S2\"\n",
		[]string{`bad.toml:19: claim[1].tolerance: 0 is not above 0 (the equivalence margin, in the metric's units)`,
			`bad.toml:20: claim[1].delta: expected a number, got the string "0.4"`,
			`bad.toml:21: claim[1].source: "mine" is not allowed (allowed: paper, workbench)`,
			`bad.toml:22: claim[1].versus_metric: "acc.S2" is not among the study's metrics; add it to metrics so the claim's numbers are tabulated (allowed: acc.S3, acc.S4)`}},
	{"claim delta against its direction", head + twoVariants + "\n[[claim]]\ntext = \"b is lower\"\nmetric = \"acc.S4\"\nvariant = \"b\"\nexpect = \"lower\"\ndelta = 0.4\n",
		[]string{`bad.toml:19: claim[1].delta: 0.4 contradicts expect = "lower" (delta is variant − baseline)`}},
	{"claim interaction half", head + twoVariants + "\n[[claim]]\ntext = \"b's gain\"\nmetric = \"acc.S4\"\nvariant = \"b\"\nvariant2 = \"a\"\nexpect = \"equal\"\n",
		[]string{`bad.toml:14: claim[1].baseline2: missing: the variant label it refers to (allowed: a, b)`}},
	{"claim interaction same gain", head + twoVariants + "\n[[claim]]\ntext = \"b's gain\"\nmetric = \"acc.S4\"\nvariant = \"b\"\nvariant2 = \"b\"\nbaseline2 = \"a\"\nexpect = \"higher\"\ndelta = -1\n",
		[]string{`bad.toml:18: claim[1].variant2: the second gain (b − a) is the first: its Δ is 0 by construction`,
			`bad.toml:21: claim[1].delta: -1 contradicts expect = "higher" (delta is (variant − baseline) − (variant2 − baseline2))`}},
	{"claim interaction labels", head + twoVariants + "\n[[claim]]\ntext = \"b's gain\"\nmetric = \"acc.S4\"\nvariant = \"b\"\nvariant2 = \"bb\"\nbaseline2 = \"\"\nexpect = \"equal\"\n",
		[]string{`bad.toml:18: claim[1].variant2: no variant is labelled "bb"; did you mean "b"? (allowed: a, b)`,
			`bad.toml:19: claim[1].baseline2: is empty: name a variant (an interaction claim needs variant2 and baseline2) (allowed: a, b)`}},
	{"claim interaction with itself", head + twoVariants + "\n[[claim]]\ntext = \"b's gain\"\nmetric = \"acc.S4\"\nvariant = \"b\"\nvariant2 = \"a\"\nbaseline2 = \"a\"\nexpect = \"equal\"\n",
		[]string{`bad.toml:19: claim[1].baseline2: compares variant2 "a" with itself: the second gain must be between two variants`}},
	{"claim missing parts", head + twoVariants + "\n[[claim]]\nmetric = \"acc.S4\"\nvariant = \"b\"\nexpectation = \"higher\"\n",
		[]string{`bad.toml:14: claim[1].text: missing: state the claim in words`,
			`bad.toml:14: claim[1].expect: missing: how the variant compares with the baseline (allowed: higher, lower, equal)`,
			`bad.toml:17: claim[1].expectation: unknown key; did you mean "expect"? (allowed: text, metric, variant, baseline, variant2, baseline2, expect, versus_metric, tolerance, delta, source)`}},
	{"paper", head + twoVariants + "\n[[paper]]\nvariant = \"a\"\nmetric = \"acc.S4\"\nvalue = \"92.8\"\npercent = true\n",
		[]string{`bad.toml:17: paper[1].value: expected a number, got the string "92.8"`,
			`bad.toml:18: paper[1].percent: a percentage is relative to something: set versus (a variant) or versus_metric`}},
	{"paper unknown metric", head + twoVariants + "\n[[paper]]\nvariant = \"z\"\nmetric = \"acc.S9\"\nvalue = 1\n",
		[]string{`bad.toml:15: paper[1].variant: no variant is labelled "z" (allowed: a, b)`,
			`bad.toml:16: paper[1].metric: unknown metric "acc.S9"; did you mean "acc.S2"? (allowed: ` + strings.Join(MetricKeys(), ", ") + ")"}},
	{"paper figure against itself", head + twoVariants + "\n[[paper]]\nvariant = \"a\"\nmetric = \"acc.S4\"\nvalue = 0\nversus_metric = \"acc.S4\"\n",
		[]string{`bad.toml:14: paper[1]: compares the figure with itself: versus or versus_metric must differ`}},
	{"base not a table", head + "base = 3\n" + twoVariants,
		[]string{"bad.toml:5: base: expected a table of settings, got the integer 3"}},
	{"several problems in file order", head + "\n[[variant]]\nlabel = \"a\"\nsteps = 9\ntemperature = -1\nmode = \"x\"\n",
		[]string{"bad.toml:8: variant[1].steps: 9 is outside 0–3 (allowed: 0, 1, 2, 3)",
			"bad.toml:9: variant[1].temperature: -1 must be > 0",
			`bad.toml:10: variant[1].mode: "x" is not allowed (allowed: sync, async)`}},
}

// TestParseTrainerRules: what train.Config.Validate rejects is reported at
// the key that caused it (the trainer's wording may change; the location
// may not).
func TestParseTrainerRules(t *testing.T) {
	cases := []struct{ src, prefix string }{
		{head + "\n[[variant]]\nlabel = \"a\"\nepochs = 2\nwarmup_epochs = 3.0\n",
			`bad.toml:9: variant[1].warmup_epochs: in variant "a": the trainer cannot run it: warmup_epochs = 3`},
		{head + "\n[base]\nimage_size = 30\n\n[[variant]]\nlabel = \"a\"\n",
			`bad.toml:7: base.image_size: in variant "a": the trainer cannot run it: image_size = 30`},
	}
	for _, c := range cases {
		_, err := Parse("bad.toml", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.prefix) {
			t.Errorf("got %v\nwant prefix %s", err, c.prefix)
		}
	}
}
