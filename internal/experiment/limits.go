package experiment

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Limits that keep a spec, a hostile or fuzzed one included, and the
// overrides given at expansion time from costing unbounded memory or time.
const (
	// MaxSpecBytes is the largest spec file Load reads and Parse accepts
	// (1 MiB; the shipped specs are a few KB).
	MaxSpecBytes = 1 << 20
	// MaxSpecDepth is the deepest nesting of brackets and braces (arrays,
	// inline tables, table headers) a spec may have. Specs need 3 or 4;
	// the TOML decoder's memory grows steeply with depth.
	MaxSpecDepth = 8
	// MaxVariants bounds the variants of a study (named × grid points).
	MaxVariants = 1000
	// MaxSeeds bounds the seeds of a study, in the spec or in
	// ExpandOptions.Seeds.
	MaxSeeds = 1000
	// MaxRuns bounds the runs of a study: variants × seeds.
	MaxRuns = 10000
)

// maxReported is the most problems Parse lists for one spec; the rest are
// counted in a last line, so that a huge broken spec gives a readable error.
const maxReported = 100

// specLimitText names MaxSpecBytes in messages.
const specLimitText = "1 MiB"

// readSpecFile reads at most MaxSpecBytes of a spec file. It never blocks on
// a FIFO without a writer (the file is opened non-blocking and must be a
// regular file) and never reads a device or an oversized file past the
// limit.
func readSpecFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, fmt.Errorf("study spec: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("study spec: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, ErrorList{{Path: path, Message: fmt.Sprintf("%s, not a regular file; a spec is a TOML file of at most %s", fileKind(fi.Mode()), specLimitText)}}
	}
	if fi.Size() > MaxSpecBytes {
		return nil, ErrorList{tooLargeError(path, fi.Size())}
	}
	// The file may grow between Stat and reading: read one byte past the
	// limit to notice.
	src, err := io.ReadAll(io.LimitReader(f, MaxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("study spec: %w", err)
	}
	if len(src) > MaxSpecBytes {
		return nil, ErrorList{tooLargeError(path, -1)}
	}
	return src, nil
}

// tooLargeError reports a spec over MaxSpecBytes; size < 0 when unknown.
func tooLargeError(path string, size int64) *Error {
	msg := fmt.Sprintf("spec is larger than the %s limit for a spec file", specLimitText)
	if size >= 0 {
		msg = fmt.Sprintf("spec is %d bytes, over the %s limit for a spec file", size, specLimitText)
	}
	return &Error{Path: path, Message: msg}
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}

// nestingTooDeep returns the line where the brackets and braces of src
// (outside strings and comments) first nest deeper than limit, or 0. It is
// a linear scan, run before the TOML decoder sees the text.
func nestingTooDeep(src []byte, limit int) int {
	line, depth := 1, 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch c {
		case '\n':
			line++
		case '#': // a comment runs to the end of the line
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			delim := string(c)
			multi := i+2 < len(src) && src[i+1] == c && src[i+2] == c
			if multi {
				delim = string([]byte{c, c, c})
			}
			i += len(delim)
			for i < len(src) {
				if src[i] == '\n' {
					if !multi { // an unterminated string: the decoder reports it
						break
					}
					line++
				}
				if c == '"' && src[i] == '\\' {
					if i+1 < len(src) && src[i+1] == '\n' {
						line++
					}
					i += 2
					continue
				}
				if string(src[i:min(i+len(delim), len(src))]) == delim {
					i += len(delim) - 1
					break
				}
				i++
			}
			if i < len(src) && src[i] == '\n' {
				line++
			}
		case '[', '{':
			if depth++; depth > limit {
				return line
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return 0
}

// checkSeeds checks a list of seeds against MaxSeeds, for negatives and for
// repeats; what names where they came from ("seeds", "--seeds").
func checkSeeds(what string, seeds []int64) error {
	if len(seeds) > MaxSeeds {
		return fmt.Errorf("%s: %d seeds; at most %d per study", what, len(seeds), MaxSeeds)
	}
	for i, sd := range seeds {
		if sd < 0 {
			return fmt.Errorf("%s: seed %d is negative; seeds are 0 or more", what, sd)
		}
		if slices.Contains(seeds[:i], sd) {
			return fmt.Errorf("%s: seed %d is given twice", what, sd)
		}
	}
	return nil
}

// checkRuns checks variants × seeds against MaxRuns.
func checkRuns(variants, seeds int, hint string) error {
	if n := variants * seeds; n > MaxRuns {
		return fmt.Errorf("%d variants × %d seeds is %d runs; at most %d per study%s", variants, seeds, n, MaxRuns, hint)
	}
	return nil
}

// variantsWithGrid is the study's variants with the axes of over replacing
// its grid axes of the same key or added after them.
func (s *Study) variantsWithGrid(over []Axis) ([]Variant, error) {
	grid := slices.Clone(s.Grid)
	for i, a := range over {
		what := "--grid " + a.Key
		if slices.ContainsFunc(over[:i], func(b Axis) bool { return b.Key == a.Key }) {
			return nil, fmt.Errorf("%s: the axis is given twice", what)
		}
		if _, ok := configFieldMap[a.Key]; !ok || reservedKeys[a.Key] != "" {
			_, msg, _ := checkOverride(a.Key, nil)
			return nil, fmt.Errorf("%s: %s", what, msg)
		}
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("%s: has no values", what)
		}
		// A product over MaxVariants is refused below; checking values
		// past that is wasted work.
		if len(a.Values) > MaxVariants {
			return nil, fmt.Errorf("%s: %d values; at most %d variants per study", what, len(a.Values), MaxVariants)
		}
		a.Values = slices.Clone(a.Values) // normalised below; the caller's stay as given
		seen := map[string]bool{}
		for k, x := range a.Values {
			nv, msg, allowed := checkOverride(a.Key, x)
			if msg != "" {
				return nil, fmt.Errorf("%s: value %d: %s%s", what, k+1, msg, allowedNote(allowed))
			}
			lv := labelValue(nv)
			if seen[lv] {
				return nil, fmt.Errorf("%s: value %s appears twice", what, lv)
			}
			seen[lv] = true
			a.Values[k] = nv
		}
		for _, v := range s.Named {
			if _, ok := v.Overrides[a.Key]; ok {
				return nil, fmt.Errorf("%s: variant %q sets %s; a key is either varied by the grid or set by variants", what, v.Label, a.Key)
			}
		}
		if j := slices.IndexFunc(grid, func(b Axis) bool { return b.Key == a.Key }); j >= 0 {
			grid[j] = a
		} else {
			grid = append(grid, a)
		}
	}
	n := max(len(s.Named), 1)
	for _, a := range grid {
		if n *= len(a.Values); n > MaxVariants {
			return nil, fmt.Errorf("--grid: the grid gives more than %d variants, the limit per study", MaxVariants)
		}
	}
	return Product(s.Named, grid)
}

// ParseAxis reads a grid axis given on the command line, "key=v1,v2,...",
// for ExpandOptions.Grid: each value is read as an integer, a number, true
// or false, else a string, and checked by Expand like a spec's [grid]
// values. List settings (widths, depths, heads) cannot be given this way.
func ParseAxis(s string) (Axis, error) {
	key, vals, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" || strings.TrimSpace(vals) == "" {
		return Axis{}, fmt.Errorf("--grid %q: want key=value,value,... e.g. temperature=1,2,4", s)
	}
	if f, known := configFieldMap[key]; known && f.kind == kindIntList {
		return Axis{}, fmt.Errorf("--grid %s: a list setting cannot be a command-line axis; use [grid] in the spec", key)
	}
	fields := strings.Split(vals, ",")
	if len(fields) > MaxVariants {
		return Axis{}, fmt.Errorf("--grid %s: %d values; at most %d variants per study", key, len(fields), MaxVariants)
	}
	a := Axis{Key: key}
	for _, f := range fields {
		f = strings.TrimSpace(f)
		var v any = f
		if n, err := strconv.ParseInt(f, 10, 64); err == nil {
			v = n
		} else if x, err := strconv.ParseFloat(f, 64); err == nil {
			v = x
		} else if b, err := strconv.ParseBool(f); err == nil && (f == "true" || f == "false") {
			v = b
		}
		a.Values = append(a.Values, v)
	}
	return a, nil
}
