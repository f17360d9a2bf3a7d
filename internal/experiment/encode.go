package experiment

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Encode writes a study as spec text (the TUI's ablation builder saves specs
// this way). The output is checked by parsing it, so an invalid study is an
// error, and Parse(Encode(s)) gives back s (Path, Source and Hash aside).
// Comments of the original file are not kept: Description holds the prose.
func Encode(s *Study) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("encode study: nil study")
	}
	named, grid := s.Named, s.Grid
	if len(named) > 0 || len(grid) > 0 {
		vs, err := Product(named, grid)
		if err != nil {
			return nil, fmt.Errorf("encode study %s: %w", s.Name, err)
		}
		if !sameVariants(vs, s.Variants) {
			return nil, fmt.Errorf("encode study %s: Variants were changed but Named and Grid were not; set Named and Grid (or clear both to write Variants as they are)", s.Name)
		}
	} else {
		named = s.Variants
	}

	e := &encoder{}
	if s.Title != "" {
		e.line("# " + strings.ReplaceAll(s.Title, "\n", " "))
		e.line("")
	}
	e.kv("name", s.Name)
	for _, kv := range []struct{ k, v string }{
		{"title", s.Title}, {"description", s.Description}, {"table", s.Table},
		{"dataset", s.Dataset}, {"backbone", s.Backbone}, {"profile", s.Profile},
	} {
		if kv.v != "" {
			e.kv(kv.k, kv.v)
		}
	}
	e.line("seeds = [" + joinInts(s.Seeds, ", ") + "]")
	if len(s.Metrics) > 0 {
		e.kv("metrics", s.Metrics)
	}
	if s.Baseline != "" {
		e.kv("baseline", s.Baseline)
	}
	if len(s.Base) > 0 {
		e.line("")
		e.line("[base]")
		e.overrides(s.Base)
	}
	for _, v := range named {
		e.line("")
		e.line("[[variant]]")
		e.kv("label", v.Label)
		e.overrides(v.Overrides)
	}
	if len(grid) > 0 {
		e.line("")
		e.line("[grid]")
		for _, a := range grid {
			vals := make([]string, len(a.Values))
			for i, x := range a.Values {
				nv, err := e.normalized(a.Key, x)
				if err != nil {
					return nil, fmt.Errorf("encode study %s: grid.%s: %w", s.Name, a.Key, err)
				}
				vals[i] = tomlValue(nv)
			}
			e.line(a.Key + " = [" + strings.Join(vals, ", ") + "]")
		}
	}
	for _, f := range s.Paper {
		e.line("")
		e.line("[[paper]]")
		e.kv("variant", f.Variant)
		e.kv("metric", f.Metric)
		e.kv("value", f.Value)
		for _, kv := range []struct{ k, v string }{{"versus", f.Versus}, {"versus_metric", f.VersusMetric}, {"note", f.Note}} {
			if kv.v != "" {
				e.kv(kv.k, kv.v)
			}
		}
		if f.Percent {
			e.kv("percent", true)
		}
	}
	for _, c := range s.Claims {
		e.line("")
		e.line("[[claim]]")
		e.kv("text", c.Text)
		e.kv("metric", c.Metric)
		e.kv("variant", c.Variant)
		if c.Baseline != "" {
			e.kv("baseline", c.Baseline)
		}
		if c.Variant2 != "" || c.Baseline2 != "" {
			e.kv("variant2", c.Variant2)
			e.kv("baseline2", c.Baseline2)
		}
		e.kv("expect", c.Expect)
		if c.VersusMetric != "" {
			e.kv("versus_metric", c.VersusMetric)
		}
		if c.Tolerance != 0 {
			e.kv("tolerance", c.Tolerance)
		}
		if c.Delta != nil {
			e.kv("delta", *c.Delta)
		}
		if c.Source != "" {
			e.kv("source", c.Source)
		}
	}
	if e.err != nil {
		return nil, fmt.Errorf("encode study %s: %w", s.Name, e.err)
	}
	out := []byte(e.b.String())
	if _, err := Parse(s.Path, out); err != nil {
		return nil, fmt.Errorf("encode study %s: the study is not valid:\n%w", s.Name, err)
	}
	return out, nil
}

type encoder struct {
	b   strings.Builder
	err error
}

func (e *encoder) line(s string) { e.b.WriteString(s); e.b.WriteByte('\n') }

func (e *encoder) kv(k string, v any) { e.line(k + " = " + tomlValue(v)) }

// overrides writes settings in train.Config's field order.
func (e *encoder) overrides(m map[string]any) {
	for k := range m {
		if _, ok := configFieldMap[k]; !ok {
			if e.err == nil {
				e.err = fmt.Errorf("%s: unknown setting", k)
			}
		}
	}
	for _, f := range configFields {
		v, ok := m[f.name]
		if !ok {
			continue
		}
		nv, err := e.normalized(f.name, v)
		if err != nil {
			if e.err == nil {
				e.err = err
			}
			continue
		}
		e.kv(f.name, nv)
	}
}

func (e *encoder) normalized(key string, v any) (any, error) {
	nv, msg, allowed := checkOverride(key, v)
	if msg != "" {
		return nil, fmt.Errorf("%s: %s%s", key, msg, allowedNote(allowed))
	}
	return nv, nil
}

func sameVariants(a, b []Variant) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Label != b[i].Label || len(a[i].Overrides) != len(b[i].Overrides) {
			return false
		}
		for k, x := range a[i].Overrides {
			if !reflect.DeepEqual(x, b[i].Overrides[k]) {
				return false
			}
		}
	}
	return true
}

// tomlValue writes a normalised value as TOML.
func tomlValue(v any) string {
	switch x := v.(type) {
	case string:
		return tomlString(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return tomlFloat(x)
	case bool:
		return strconv.FormatBool(x)
	case []int:
		return "[" + joinInts(x, ", ") + "]"
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = tomlString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	panic(fmt.Sprintf("experiment: no TOML form for %T", v))
}

// tomlFloat writes x so that TOML reads it back as the same float.
func tomlFloat(x float64) string {
	switch {
	case math.IsNaN(x):
		return "nan"
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eE") {
		s += ".0"
	}
	return s
}

// tomlString writes a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\uFFFD`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
