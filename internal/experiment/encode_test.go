package experiment

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// builderStudy is a study as the TUI's ablation builder makes it: plain Go
// values, ints where floats are meant, no file.
func builderStudy() *Study {
	named := []Variant{
		{Label: "two-step", Overrides: map[string]any{"steps": 2}},
		{Label: "async", Overrides: map[string]any{"steps": int64(2), "mode": "async", "widths": []int64{8, 16, 32, 64}}},
	}
	grid := []Axis{{Key: "temperature", Values: []any{1, 2.5}}}
	s := &Study{
		Name: "my-ablation", Title: "Sync vs async over T", Description: "line one\nline \"two\"\ttabbed",
		Dataset: "synthetic:classes=5", Backbone: "resnet", Profile: "smoke",
		Base:  map[string]any{"lr": 0.001, "epochs": 2, "label_smoothing": 0},
		Named: named, Grid: grid,
		Seeds: []int64{1, 2}, Metrics: []string{"acc.S3", "acc.S4"},
		Paper: []PaperFigure{{Variant: "async,temperature=1", Metric: "acc.S4", Value: -0.3, Versus: "two-step,temperature=1", Note: "Table 10"}},
		Claims: []Claim{{Text: "sync wins at S4", Metric: "acc.S4", Variant: "two-step,temperature=1",
			Baseline: "async,temperature=1", Expect: "higher"}},
	}
	vs, err := Product(named, grid)
	if err != nil {
		panic(err)
	}
	s.Variants = vs
	s.Baseline = vs[0].Label
	return s
}

func TestEncodeGolden(t *testing.T) {
	out, err := Encode(builderStudy())
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "encode.golden.toml")
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(out) != string(want) {
		t.Errorf("Encode output differs from %s (go test -update rewrites it):\n%s", golden, out)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	s := builderStudy()
	out, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("x.toml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if back.Description != s.Description || back.Title != s.Title {
		t.Errorf("text fields: %q %q", back.Description, back.Title)
	}
	if v, _ := back.Variant("async,temperature=2.5"); v.Overrides["temperature"] != 2.5 || v.Overrides["mode"] != "async" {
		t.Errorf("variant %+v", v)
	}
	if back.Base["label_smoothing"] != 0.0 {
		t.Errorf("label_smoothing %#v: want float64 0", back.Base["label_smoothing"])
	}
	again, err := Encode(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(out) {
		t.Errorf("Encode is not stable:\n%s\n---\n%s", out, again)
	}
	assertSameStudy(t, back, mustParse(t, string(again)))

	// Variants only (no Named/Grid): written as [[variant]] entries.
	plain := mustParse(t, string(out))
	plain.Named, plain.Grid = nil, nil
	out2, err := Encode(plain)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out2), "[grid]") || strings.Count(string(out2), "[[variant]]") != 4 {
		t.Errorf("explicit variants:\n%s", out2)
	}
	if got := mustParse(t, string(out2)).Labels(); strings.Join(got, " ") != strings.Join(back.Labels(), " ") {
		t.Errorf("labels %v", got)
	}
}

func TestEncodeErrors(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Study)
		want   string
	}{
		{"variants edited alone", func(s *Study) { s.Variants = s.Variants[:1] },
			"Variants were changed but Named and Grid were not"},
		{"unknown setting", func(s *Study) { s.Base["speed"] = 3 }, "speed: unknown setting"},
		{"bad value", func(s *Study) { s.Base["epochs"] = 0 }, "epochs: 0 is too small"},
		{"bad type", func(s *Study) { s.Base["epochs"] = "3" }, `epochs: expected an integer, got the string "3"`},
		{"invalid study", func(s *Study) { s.Claims[0].Expect = "more" }, `claim[1].expect: "more" is not allowed`},
		{"bad name", func(s *Study) { s.Name = "a/b" }, `name: name "a/b": '/' is not allowed`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := builderStudy()
			c.change(s)
			_, err := Encode(s)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q", err, c.want)
			}
		})
	}
	if _, err := Encode(nil); err == nil {
		t.Error("nil study encoded")
	}
}

func TestTOMLValues(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{2.0, "2.0"}, {0.001, "0.001"}, {1e21, "1e+21"}, {-0.5, "-0.5"},
		{"a\"b\\c\x01\u00e9", `"a\"b\\c\u0001é"`}, {[]int{1, 2}, "[1, 2]"}, {true, "true"},
	} {
		if got := tomlValue(c.v); got != c.want {
			t.Errorf("%#v: %s, want %s", c.v, got, c.want)
		}
	}
}
