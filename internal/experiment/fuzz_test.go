package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary text to the parser. Whatever it gets, Parse must
// not panic and must answer either a study or located errors; a study must
// survive Encode and Parse unchanged and expand without panicking.
//
//	go test ./internal/experiment -run '^$' -fuzz FuzzParse -fuzztime 60s
//
// The seed corpus is testdata/fuzz/FuzzParse (the bad inputs of
// TestParseErrors and the shipped specs; TestFuzzCorpus -update rewrites it).
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Parse("f.toml", src)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %v is not an ErrorList", err, err)
			}
			lines := strings.Count(string(src), "\n") + 1
			for _, e := range list {
				if e.Message == "" || e.Line < 0 || e.Line > lines {
					t.Fatalf("bad error %+v (%d lines)", e, lines)
				}
			}
			return
		}
		out, err := Encode(s)
		if err != nil {
			t.Fatalf("Encode of a parsed study: %v\nsource:\n%s", err, src)
		}
		back, err := Parse("f.toml", out)
		if err != nil {
			t.Fatalf("Parse(Encode(s)): %v\nencoded:\n%s", err, out)
		}
		assertSameStudy(t, s, back)
		if again, err := Encode(back); err != nil || string(again) != string(out) {
			t.Fatalf("Encode is not stable (%v):\n%s\n---\n%s", err, out, again)
		}
		if len(s.Variants)*len(s.Seeds) > 200 {
			return
		}
		for _, p := range ProfileNames() {
			runs, err := s.Expand(ExpandOptions{Profile: p})
			if err != nil {
				if !strings.Contains(err.Error(), "profile "+p) {
					t.Fatalf("profile %s: an error of a valid study must come from the profile: %v", p, err)
				}
				continue
			}
			if len(runs) != len(s.Variants)*len(s.Seeds) {
				t.Fatalf("%d runs for %d variants × %d seeds", len(runs), len(s.Variants), len(s.Seeds))
			}
		}
	})
}

// TestFuzzCorpus keeps the checked-in seed corpus in step with the test
// cases it is made from; go test -run TestFuzzCorpus -update rewrites it.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	inputs := map[string]string{}
	for _, c := range parseErrorCases {
		name := strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, c.name)
		inputs["bad-"+name] = c.src
	}
	files, _ := filepath.Glob(filepath.Join(shippedDir, "*.toml"))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs["shipped-"+strings.TrimSuffix(filepath.Base(f), ".toml")] = string(src)
	}
	inputs["valid-grid"] = gridSpec
	for name, src := range inputs {
		path := filepath.Join(dir, name)
		want := "go test fuzz v1\n[]byte(" + strconv.Quote(src) + ")\n"
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("corpus file %s is missing or stale (go test -run TestFuzzCorpus -update)", path)
		}
	}
}
