package experiment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/data"
)

const smallSpec = "name = \"small\"\nseeds = [1]\n[[variant]]\nlabel = \"a\"\n"

// loadWithin runs Load and fails the test if it takes longer than d: the
// limits exist so that a hostile file cannot hang or exhaust the process.
func loadWithin(t *testing.T, path string, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { _, err := Load(path); done <- err }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Load(%s) still running after %v", path, d)
		return nil
	}
}

// TestLoadSpecSizeLimit: a spec of exactly MaxSpecBytes loads; one byte more
// (or 10 MB) is refused with the file and the limit named.
func TestLoadSpecSizeLimit(t *testing.T) {
	dir := t.TempDir()
	pad := func(n int) []byte { // the small spec padded with a comment to n bytes
		b := []byte(smallSpec + "#")
		b = append(b, strings.Repeat("x", n-len(b)-1)...)
		return append(b, '\n')
	}
	atLimit := filepath.Join(dir, "at-limit.toml")
	if err := os.WriteFile(atLimit, pad(MaxSpecBytes), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := loadWithin(t, atLimit, 10*time.Second); err != nil {
		t.Errorf("a spec of exactly %d bytes: %v", MaxSpecBytes, err)
	}
	for _, n := range []int{MaxSpecBytes + 1, 10 << 20} {
		p := filepath.Join(dir, fmt.Sprintf("big-%d.toml", n))
		if err := os.WriteFile(p, pad(n), 0o644); err != nil {
			t.Fatal(err)
		}
		err := loadWithin(t, p, 10*time.Second)
		want := fmt.Sprintf("%s: spec is %d bytes, over the 1 MiB limit for a spec file", p, n)
		if err == nil || err.Error() != want {
			t.Errorf("%d bytes:\n got %v\nwant %s", n, err, want)
		}
		if _, err := Parse(p, pad(n)); err == nil || err.Error() != want {
			t.Errorf("Parse of %d bytes:\n got %v\nwant %s", n, err, want)
		}
	}
}

// TestLoadNonRegular: /dev/zero would be read forever, a FIFO without a
// writer would block the open; both are refused at once.
func TestLoadNonRegular(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err == nil {
		err := loadWithin(t, "/dev/zero", 5*time.Second)
		want := "/dev/zero: a device, not a regular file; a spec is a TOML file of at most 1 MiB"
		if err == nil || err.Error() != want {
			t.Errorf("/dev/zero:\n got %v\nwant %s", err, want)
		}
	}
	dir := t.TempDir()
	if err := loadWithin(t, dir, 5*time.Second); err == nil || !strings.Contains(err.Error(), "a directory, not a regular file") {
		t.Errorf("directory: %v", err)
	}
}

// TestParseNestingDepth: the 40 KB spec of nested inline tables that took
// 3.7 GB inside the TOML decoder is refused by the depth scan, quickly and
// at the line where the nesting gets too deep.
func TestParseNestingDepth(t *testing.T) {
	var b strings.Builder
	b.WriteString(smallSpec + "[base]\nx = ")
	for b.Len() < 40<<10 {
		b.WriteString("{a=\n")
	}
	b.WriteString("1")
	src := b.String()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err := Parse("deep.toml", []byte(src))
	elapsed := time.Since(start)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// "x = {a=" is on line 6 (depth 1); depth 9 opens 8 lines further.
	want := fmt.Sprintf("deep.toml:%d: nesting deeper than %d", 6+MaxSpecDepth, MaxSpecDepth)
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if elapsed > time.Second {
		t.Errorf("refusing a deep spec took %v", elapsed)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 10<<20 {
		t.Errorf("refusing a deep spec allocated %d bytes", alloc)
	}
	// The same nesting as an array, on one line.
	deepArray := smallSpec + "[grid]\ntemperature = " + strings.Repeat("[", 20000) + "]"
	if _, err := Parse("a.toml", []byte(deepArray)); err == nil || err.Error() != fmt.Sprintf("a.toml:6: nesting deeper than %d", MaxSpecDepth) {
		t.Errorf("deep array: %v", err)
	}
}

// TestNestingScanIgnoresStringsAndComments: brackets in strings, multi-line
// strings and comments are text, not nesting; the limit itself is allowed.
func TestNestingScanIgnoresStringsAndComments(t *testing.T) {
	many := strings.Repeat("[{", 20)
	src := smallSpec +
		"description = \"" + many + " \\\" " + many + "\"\n" +
		"title = '" + many + "'\n" +
		"# " + many + "\n" +
		"[[claim]]\ntext = \"\"\"\n" + many + "\n\"\"\"\nmetric = \"acc.S4\"\nexpect = \"higher\"\nvariant = \"a\"\nbaseline = \"a\"\n"
	if line := nestingTooDeep([]byte(src), MaxSpecDepth); line != 0 {
		t.Errorf("text in strings and comments counted as nesting at line %d", line)
	}
	atLimit := "x = " + strings.Repeat("[", MaxSpecDepth) + strings.Repeat("]", MaxSpecDepth) + "\n"
	if line := nestingTooDeep([]byte(atLimit), MaxSpecDepth); line != 0 {
		t.Errorf("depth %d refused at line %d", MaxSpecDepth, line)
	}
	over := "a = '''\n]]]\n'''\nx = " + strings.Repeat("{y=", MaxSpecDepth+1) + "1" + strings.Repeat("}", MaxSpecDepth+1)
	if line := nestingTooDeep([]byte(over), MaxSpecDepth); line != 4 {
		t.Errorf("depth %d on line 4 found at line %d", MaxSpecDepth+1, line)
	}
}

// TestSpecSeedsNotNegative: a spec's seeds are 0 or more.
func TestSpecSeedsNotNegative(t *testing.T) {
	_, err := Parse("neg.toml", []byte("name = \"n\"\nseeds = [1, -3]\n[[variant]]\nlabel = \"a\"\n"))
	if want := "neg.toml:2: seeds: seed -3 is negative; seeds are 0 or more"; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	mustParse(t, "name = \"z\"\nseeds = [0]\n[[variant]]\nlabel = \"a\"\n")
}

func seedRange(n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i + 1)
	}
	return out
}

// TestExpandOverrideLimits: --seeds and --grid go through the limits a spec
// has (MaxSeeds, MaxRuns, MaxVariants, no negative seeds), and the errors
// name the flag.
func TestExpandOverrideLimits(t *testing.T) {
	one := mustParse(t, smallSpec)
	grid := mustParse(t, "name = \"g\"\nseeds = [1]\n[grid]\ntemperature = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]\n")
	temps := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = int64(i + 1)
		}
		return out
	}
	cases := []struct {
		s    *Study
		o    ExpandOptions
		want string
	}{
		{one, ExpandOptions{Seeds: seedRange(20000)}, "study small: --seeds: 20000 seeds; at most 1000 per study"},
		{one, ExpandOptions{Seeds: []int64{1, -7}}, "study small: --seeds: seed -7 is negative; seeds are 0 or more"},
		{grid, ExpandOptions{Seeds: seedRange(501)}, "study g: 20 variants × 501 seeds is 10020 runs; at most 10000 per study; give fewer --seeds"},
		{one, ExpandOptions{Grid: []Axis{{Key: "temperature", Values: temps(1001)}}}, "study small: --grid temperature: 1001 values; at most 1000 variants per study"},
		{grid, ExpandOptions{Grid: []Axis{{Key: "lambda1", Values: temps(60)}}}, "study g: --grid: the grid gives more than 1000 variants, the limit per study"},
		{grid, ExpandOptions{Grid: []Axis{{Key: "lambda1", Values: temps(40)}}, Seeds: seedRange(300)},
			"study g: 800 variants × 300 seeds is 240000 runs; at most 10000 per study; give fewer --grid values; give fewer --seeds"},
		{one, ExpandOptions{Grid: []Axis{{Key: "temprature", Values: temps(2)}}}, `study small: --grid temprature: unknown setting; did you mean "temperature"?`},
		{one, ExpandOptions{Grid: []Axis{{Key: "seed", Values: temps(2)}}}, "study small: --grid seed: cannot be set here: set seeds = [...] at the top of the spec"},
		{one, ExpandOptions{Grid: []Axis{{Key: "mode", Values: []any{"sync", "fast"}}}}, `study small: --grid mode: value 2: "fast" is not allowed (allowed: sync, async)`},
		{one, ExpandOptions{Grid: []Axis{{Key: "temperature", Values: []any{int64(2), 2.0}}}}, "study small: --grid temperature: value 2 appears twice"},
	}
	for _, c := range cases {
		start := time.Now()
		_, err := c.s.Expand(c.o)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s seeds=%d grid=%v:\n got %v\nwant %s", c.s.Name, len(c.o.Seeds), len(c.o.Grid), err, c.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("refusing took %v", d)
		}
	}
	// Up to the limits the overrides are used.
	runs := expand(t, one, ExpandOptions{Seeds: seedRange(MaxSeeds)})
	if len(runs) != MaxSeeds {
		t.Errorf("%d seeds gave %d runs", MaxSeeds, len(runs))
	}
}

// TestExpandGridOverride: a --grid axis replaces the study's axis of the
// same key, or is crossed with the named variants.
func TestExpandGridOverride(t *testing.T) {
	named := mustParse(t, "name = \"n\"\nseeds = [1]\n[[variant]]\nlabel = \"base\"\nsteps = 0\n[[variant]]\nlabel = \"two\"\nsteps = 2\n")
	a, err := ParseAxis("temperature=1, 4")
	if err != nil {
		t.Fatal(err)
	}
	runs := expand(t, named, ExpandOptions{Grid: []Axis{a}})
	var labels []string
	for _, r := range runs {
		labels = append(labels, r.Variant)
	}
	if got := strings.Join(labels, " "); got != "base,temperature=1 base,temperature=4 two,temperature=1 two,temperature=4" {
		t.Errorf("labels %s", got)
	}
	if runs[3].Config.Temperature != 4 {
		t.Errorf("temperature %v", runs[3].Config.Temperature)
	}
	grid := mustParse(t, "name = \"g\"\nseeds = [1]\n[grid]\nmode = [\"sync\", \"async\"]\ntemperature = [1, 2]\n")
	m, err := ParseAxis("mode=async")
	if err != nil {
		t.Fatal(err)
	}
	runs = expand(t, grid, ExpandOptions{Grid: []Axis{m}})
	if len(runs) != 2 || runs[0].Variant != "mode=async,temperature=1" {
		t.Errorf("replaced axis: %d runs, first %q", len(runs), runs[0].Variant)
	}
	if m.Values[0] != "async" {
		t.Errorf("the caller's axis was changed: %v", m.Values)
	}
	for in, want := range map[string]string{
		"temperature": `--grid "temperature": want key=value,value,... e.g. temperature=1,2,4`,
		"widths=8,16": "--grid widths: a list setting cannot be a command-line axis; use [grid] in the spec",
		"=1":          `--grid "=1": want key=value,value,... e.g. temperature=1,2,4`,
		"steps=" + strings.Repeat("1,", 1000) + "1": "--grid steps: 1001 values; at most 1000 variants per study",
	} {
		if _, err := ParseAxis(in); err == nil || err.Error() != want {
			t.Errorf("ParseAxis(%.30q):\n got %v\nwant %s", in, err, want)
		}
	}
}

// TestExpandDataSetNamedOnce: an error from the data package already starts
// "data set SPEC: "; Expand must not name the data set a second time.
func TestExpandDataSetNamedOnce(t *testing.T) {
	s := mustParse(t, smallSpec)
	missing := filepath.Join(t.TempDir(), "no-cub")
	fp := func(spec string) (string, error) {
		d, err := data.OpenWith(t.Context(), spec, 32, data.Options{CacheDir: "off"})
		if err != nil {
			return "", err
		}
		return d.Fingerprint(), nil
	}
	_, err := s.Expand(ExpandOptions{Dataset: "cub:" + missing, Profile: "quick", Fingerprint: fp})
	if err == nil {
		t.Fatal("a missing CUB root expanded")
	}
	if n := strings.Count(err.Error(), "data set cub:"); n != 1 {
		t.Errorf("data set named %d times: %v", n, err)
	}
	var oe *data.OpenError
	if !errors.As(err, &oe) || !strings.HasPrefix(err.Error(), "study small: data set cub:"+missing+": root ") {
		t.Errorf("error %v", err)
	}
	// A bad --dataset: the spec parser's "data set spec" once, no bare "data set:".
	_, err = s.Expand(ExpandOptions{Dataset: "mnist"})
	if want := `study small: data set spec "mnist": unknown kind "mnist" (want one of cub, dogs, fashion-mnist, imagefolder, nabirds, synthetic)`; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// TestExpandRefusesHugeSynthetic: a synthetic set that cannot fit in memory
// is refused at expansion, before anything is generated, naming the options
// to lower; the profiles' own sets pass.
func TestExpandRefusesHugeSynthetic(t *testing.T) {
	s := mustParse(t, smallSpec)
	huge := "synthetic:classes=200,test=100000,train=100000"
	start := time.Now()
	_, err := s.Expand(ExpandOptions{Dataset: huge, Profile: "quick"})
	if err == nil || !strings.Contains(err.Error(), "data set "+huge+": needs ~") || !strings.HasSuffix(err.Error(), ": lower train= / test= / classes=") {
		t.Errorf("huge synthetic set: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("refusing took %v", d)
	}
	for _, p := range ProfileNames() {
		if _, err := s.Expand(ExpandOptions{Profile: p}); err != nil {
			t.Errorf("profile %s: %v", p, err)
		}
	}
}

// TestParseCapsReportedProblems: a spec with thousands of problems lists
// the first maxReported and counts the rest.
func TestParseCapsReportedProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(smallSpec + "[base]\n")
	for i := range 250 {
		fmt.Fprintf(&b, "bogus%d = 1\n", i)
	}
	_, err := Parse("many.toml", []byte(b.String()))
	var list ErrorList
	if !errors.As(err, &list) || len(list) != maxReported+1 {
		t.Fatalf("got %d problems: %v", len(list), err)
	}
	if last := list[maxReported].Error(); last != "many.toml: ... and 150 more problems" {
		t.Errorf("last line %q", last)
	}
	if !strings.HasPrefix(list[0].Error(), "many.toml:6: base.bogus0: unknown setting") {
		t.Errorf("first line %q", list[0].Error())
	}
}
