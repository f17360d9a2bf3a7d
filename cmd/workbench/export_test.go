package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Every field name of export, runs --json and show --json is snake_case,
// as the store's columns are (a study membership once came out as
// "Study"/"Variant"); only the keys of params, summaries, progress.latest
// and config are data (metric names such as acc.S4) and keep their case.
func TestJSONFieldNamesSnakeCase(t *testing.T) {
	db := runsFixture(t)
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	dataMaps := []string{"params", "summaries", "latest", "config"}
	var walk func(path string, v any, bad *[]string)
	walk = func(path string, v any, bad *[]string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if !snake.MatchString(k) {
					*bad = append(*bad, path+"."+k)
				}
				if slices.Contains(dataMaps, k) {
					continue
				}
				walk(path+"."+k, e, bad)
			}
		case []any:
			for _, e := range x {
				walk(path+"[]", e, bad)
			}
		}
	}
	for _, args := range [][]string{
		{"export", "--db", db, "--metrics"},
		{"runs", "--db", db, "--json"},
		{"show", "1", "--db", db, "--json"},
	} {
		t.Run(strings.Join(args[:1], " "), func(t *testing.T) {
			out, errs, code := cli(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var v any
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var bad []string
			walk("", v, &bad)
			if len(bad) > 0 {
				t.Errorf("field names not in snake_case: %q", bad)
			}
			if args[0] != "runs" && !strings.Contains(out, `"study": "table10",`) {
				t.Errorf("the run's studies are not listed by study and variant:\n%s", out)
			}
		})
	}
}
