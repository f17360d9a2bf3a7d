package experiment

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/mksmt/workbench/internal/runspec"
)

// topKeys are the keys a spec may have at its top level.
var topKeys = []string{
	"name", "title", "description", "table", "dataset", "backbone", "profile",
	"seeds", "metrics", "baseline", "base", "variant", "grid", "paper", "claim",
}

var (
	paperKeys = []string{"variant", "metric", "value", "note", "versus", "versus_metric", "percent"}
	claimKeys = []string{"text", "metric", "variant", "baseline", "variant2", "baseline2", "expect", "versus_metric", "tolerance", "delta", "source"}
)

// Parse reads a spec from src (path names it in messages) and validates it
// completely. On failure the error is an ErrorList with every problem found,
// each formatted "path:line: field: message (allowed: ...)". A spec over
// MaxSpecBytes, or nested deeper than MaxSpecDepth, is refused before the
// TOML decoder sees it.
func Parse(path string, src []byte) (*Study, error) {
	if len(src) > MaxSpecBytes {
		return nil, ErrorList{tooLargeError(path, int64(len(src)))}
	}
	if line := nestingTooDeep(src, MaxSpecDepth); line > 0 {
		return nil, ErrorList{{Path: path, Line: line, Message: fmt.Sprintf("nesting deeper than %d", MaxSpecDepth)}}
	}
	s := &Study{Path: path, Source: slices.Clone(src), Hash: hashText(src)}
	p := &parser{path: path, lines: scanKeyLines(src)}
	var raw map[string]any
	md, err := toml.Decode(string(src), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, ErrorList{{Path: path, Line: pe.Position.Line, Message: "TOML syntax: " + pe.Message}}
		}
		return nil, ErrorList{{Path: path, Message: "TOML: " + err.Error()}}
	}
	p.study(s, raw, md)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			a, b := p.errs[i].Line, p.errs[j].Line
			if a == 0 || b == 0 {
				return a != 0 && b == 0
			}
			return a < b
		})
		if n := len(p.errs) - maxReported; n > 0 {
			p.errs = append(p.errs[:maxReported:maxReported], &Error{Path: path, Message: fmt.Sprintf("... and %d more problems", n)})
		}
		return nil, p.errs
	}
	return s, nil
}

type parser struct {
	path  string
	lines keyLines
	errs  ErrorList
}

// fail records a problem at the line of key path kp (the nearest known
// prefix), shown as field.
func (p *parser) fail(kp []string, field, msg string, allowed []string) {
	p.errs = append(p.errs, &Error{Path: p.path, Line: p.lines.line(kp...), Field: field, Message: msg, Allowed: allowed})
}

func (p *parser) study(s *Study, raw map[string]any, md toml.MetaData) {
	for k := range raw {
		if slices.Contains(topKeys, k) {
			continue
		}
		msg := "unknown key"
		if _, isConfig := configFieldMap[k]; isConfig && reservedKeys[k] == "" {
			msg += "; train settings belong in [base], a [[variant]] or [grid]"
		} else {
			msg += didYouMean(k, topKeys)
		}
		p.fail([]string{k}, k, msg, nil)
	}

	s.Name = p.str(raw, "name")
	if _, ok := raw["name"]; !ok {
		p.fail(nil, "name", `missing: every study needs a name, e.g. name = "table9"`, nil)
	} else if err := ValidName(s.Name); err != nil {
		p.fail([]string{"name"}, "name", err.Error(), nil)
	}
	s.Title = p.str(raw, "title")
	s.Description = p.str(raw, "description")
	if s.Table = p.str(raw, "table"); s.Table != "" && !slices.Contains(Tables, s.Table) {
		p.fail([]string{"table"}, "table", fmt.Sprintf("%q is not a paper table", s.Table), append(slices.Clone(Tables), `"" (generic)`))
	}
	if s.Dataset = p.str(raw, "dataset"); s.Dataset != "" {
		if err := checkDatasetSpec(s.Dataset); err != nil {
			p.fail([]string{"dataset"}, "dataset", err.Error(), nil)
		}
	}
	if s.Backbone = p.str(raw, "backbone"); s.Backbone != "" && !slices.Contains(runspec.Backbones, s.Backbone) {
		p.fail([]string{"backbone"}, "backbone", enumMsg(s.Backbone, runspec.Backbones), runspec.Backbones)
	}
	if s.Profile = p.str(raw, "profile"); s.Profile != "" {
		if _, err := LookupProfile(s.Profile); err != nil {
			p.fail([]string{"profile"}, "profile", enumMsg(s.Profile, ProfileNames()), ProfileNames())
		}
	}
	s.Seeds = p.seeds(raw)
	s.Metrics = p.metrics(raw)
	s.Base = p.overrides(raw["base"], []string{"base"}, "base", false)

	before := len(p.errs)
	named := p.variants(raw["variant"])
	grid := p.grid(raw["grid"], md)
	if len(named) == 0 && len(grid) == 0 && len(p.errs) == before {
		p.fail([]string{"variant"}, "variant", "no variants: add [[variant]] entries (label = ... plus settings) and/or [grid] axes", nil)
	}
	s.Named, s.Grid = named, grid
	for _, v := range named {
		for _, a := range grid {
			if _, ok := v.Overrides[a.Key]; ok {
				p.fail([]string{"grid", a.Key}, "grid."+a.Key,
					fmt.Sprintf("variant %q also sets %s; a key is either varied by the grid or set by variants", v.Label, a.Key), nil)
			}
		}
	}
	n := max(len(named), 1)
	for _, a := range grid {
		if n *= max(len(a.Values), 1); n > MaxVariants {
			p.fail([]string{"grid"}, "grid", fmt.Sprintf("gives more than %d variants", MaxVariants), nil)
			break
		}
	}
	if len(p.errs) == 0 {
		vs, err := Product(named, grid)
		if err != nil {
			p.fail([]string{"variant"}, "variant", err.Error(), nil)
		}
		s.Variants = vs
		p.crossCheck(s)
	}
	if n := len(s.Variants) * len(s.Seeds); n > MaxRuns {
		p.fail([]string{"seeds"}, "seeds", fmt.Sprintf("%d variants × %d seeds is %d runs; at most %d", len(s.Variants), len(s.Seeds), n, MaxRuns), nil)
	}
	labels := s.Labels()

	s.Baseline = p.str(raw, "baseline")
	switch {
	case s.Baseline == "" && len(labels) > 0:
		s.Baseline = labels[0]
	case s.Baseline != "" && len(labels) > 0 && !slices.Contains(labels, s.Baseline):
		p.fail([]string{"baseline"}, "baseline", p.labelMsg(s.Baseline, labels), shortList(labels))
	}
	s.Paper = p.paper(raw["paper"], labels)
	s.Claims = p.claims(raw["claim"], labels, s)
}

// str reads an optional string key of table t (the top level here).
func (p *parser) str(t map[string]any, key string, at ...string) string {
	v, ok := t[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		kp := append(slices.Clone(at), key)
		p.fail(kp, fieldName(kp), "expected a string, got "+describe(v), nil)
		return ""
	}
	return s
}

func (p *parser) seeds(raw map[string]any) []int64 {
	v, ok := raw["seeds"]
	if !ok {
		p.fail(nil, "seeds", "missing: list the seeds to run, e.g. seeds = [1, 2, 3]", nil)
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		p.fail([]string{"seeds"}, "seeds", "expected an array of integers, got "+describe(v), nil)
		return nil
	}
	if len(l) == 0 {
		p.fail([]string{"seeds"}, "seeds", "is empty: list at least one seed, e.g. seeds = [1, 2, 3]", nil)
		return nil
	}
	if len(l) > MaxSeeds {
		p.fail([]string{"seeds"}, "seeds", fmt.Sprintf("has %d seeds; at most %d", len(l), MaxSeeds), nil)
		return nil
	}
	var out []int64
	for i, x := range l {
		n, ok := x.(int64)
		if !ok {
			p.fail([]string{"seeds"}, "seeds", fmt.Sprintf("entry %d: expected an integer, got %s", i+1, describe(x)), nil)
			continue
		}
		if n < 0 {
			p.fail([]string{"seeds"}, "seeds", fmt.Sprintf("seed %d is negative; seeds are 0 or more", n), nil)
			continue
		}
		if slices.Contains(out, n) {
			p.fail([]string{"seeds"}, "seeds", fmt.Sprintf("seed %d appears twice", n), nil)
			continue
		}
		out = append(out, n)
	}
	return out
}

func (p *parser) metrics(raw map[string]any) []string {
	v, ok := raw["metrics"]
	if !ok {
		return []string{"acc.S4"}
	}
	l, ok := v.([]any)
	if !ok {
		p.fail([]string{"metrics"}, "metrics", "expected an array of metric keys, got "+describe(v), nil)
		return nil
	}
	if len(l) == 0 {
		p.fail([]string{"metrics"}, "metrics", `is empty: list the metrics to tabulate, e.g. metrics = ["acc.S4"]`, nil)
	}
	var out []string
	for i, x := range l {
		k, ok := x.(string)
		switch {
		case !ok:
			p.fail([]string{"metrics"}, "metrics", fmt.Sprintf("entry %d: expected a metric key, got %s", i+1, describe(x)), nil)
		case !KnownMetric(k):
			p.fail([]string{"metrics"}, "metrics", metricMsg(k), nil)
		case slices.Contains(out, k):
			p.fail([]string{"metrics"}, "metrics", fmt.Sprintf("%q appears twice", k), nil)
		default:
			out = append(out, k)
		}
	}
	return out
}

func metricMsg(k string) string {
	return fmt.Sprintf("unknown metric %q", k) + didYouMean(k, MetricKeys()) + allowedNote(MetricKeys())
}

func enumMsg(v string, allowed []string) string {
	return fmt.Sprintf("%q is not allowed", v) + didYouMean(v, allowed)
}

func (p *parser) labelMsg(label string, labels []string) string {
	return fmt.Sprintf("no variant is labelled %q", label) + didYouMean(label, labels)
}

// shortList caps a list of allowed values for a message.
func shortList(l []string) []string {
	if len(l) > 12 {
		return append(slices.Clone(l[:12]), fmt.Sprintf("... %d more", len(l)-12))
	}
	return l
}

// fieldName shows a key path as a reader finds it in the file:
// ["variant", "1", "steps"] -> "variant[2].steps".
func fieldName(kp []string) string {
	var b strings.Builder
	for i, k := range kp {
		if n, err := strconv.Atoi(k); err == nil && i > 0 {
			fmt.Fprintf(&b, "[%d]", n+1)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
	}
	return b.String()
}

// overrides validates a table of runspec.Config settings at key path at.
// label allows a "label" key (a [[variant]]), which is skipped here.
func (p *parser) overrides(v any, at []string, what string, label bool) map[string]any {
	out := map[string]any{}
	if v == nil {
		return out
	}
	t, ok := v.(map[string]any)
	if !ok {
		p.fail(at, fieldName(at), fmt.Sprintf("expected a table of settings, got %s", describe(v)), nil)
		return out
	}
	for _, k := range sortedKeys(t) {
		if label && k == "label" {
			continue
		}
		kp := append(slices.Clone(at), k)
		nv, msg, allowed := checkOverride(k, t[k])
		if msg != "" {
			if _, ok := configFieldMap[k]; !ok && slices.Contains(topKeys, k) {
				msg = fmt.Sprintf("%s is a top-level key, but here it is inside %s: move it above the first [table]", k, what)
			}
			p.fail(kp, fieldName(kp), msg, allowed)
			continue
		}
		out[k] = nv
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// tables reads an array of tables (or an inline array of inline tables).
func (p *parser) tables(v any, key string) []map[string]any {
	switch l := v.(type) {
	case nil:
		return nil
	case []map[string]any:
		return l
	case []any:
		out := make([]map[string]any, 0, len(l))
		for i, x := range l {
			t, ok := x.(map[string]any)
			if !ok {
				kp := []string{key, strconv.Itoa(i)}
				p.fail(kp, fieldName(kp), fmt.Sprintf("expected a table ([[%s]]), got %s", key, describe(x)), nil)
				continue
			}
			out = append(out, t)
		}
		return out
	}
	p.fail([]string{key}, key, fmt.Sprintf("expected [[%s]] tables, got %s", key, describe(v)), nil)
	return nil
}

func (p *parser) variants(v any) []Variant {
	var out []Variant
	for i, t := range p.tables(v, "variant") {
		at := []string{"variant", strconv.Itoa(i)}
		lv, ok := t["label"]
		label, isStr := lv.(string)
		switch {
		case !ok:
			p.fail(at, fieldName(at), `missing label: every [[variant]] needs one, e.g. label = "two-step"`, nil)
		case !isStr:
			p.fail(append(at, "label"), fieldName(append(at, "label")), "expected a string, got "+describe(lv), nil)
		default:
			if err := ValidLabel(label); err != nil {
				p.fail(append(at, "label"), fieldName(append(at, "label")), err.Error(), nil)
			}
			for _, prev := range out {
				if prev.Label == label {
					p.fail(append(at, "label"), fieldName(append(at, "label")), fmt.Sprintf("duplicate variant label %q", label), nil)
				}
			}
		}
		out = append(out, Variant{Label: label, Overrides: p.overrides(t, at, "a [[variant]]", true)})
	}
	if v != nil && len(out) > MaxVariants {
		p.fail([]string{"variant"}, "variant", fmt.Sprintf("has %d variants; at most %d", len(out), MaxVariants), nil)
	}
	return out
}

func (p *parser) grid(v any, md toml.MetaData) []Axis {
	if v == nil {
		return nil
	}
	t, ok := v.(map[string]any)
	if !ok {
		p.fail([]string{"grid"}, "grid", "expected a table of axes ([grid] with key = [values...]), got "+describe(v), nil)
		return nil
	}
	// File order of the axes, from the decoder's key list.
	var order []string
	for _, k := range md.Keys() {
		if len(k) == 2 && k[0] == "grid" && !slices.Contains(order, k[1]) {
			order = append(order, k[1])
		}
	}
	for _, k := range sortedKeys(t) {
		if !slices.Contains(order, k) {
			order = append(order, k)
		}
	}
	if len(order) == 0 {
		p.fail([]string{"grid"}, "grid", "has no axes: add one, e.g. temperature = [1, 2, 4]", nil)
	}
	var out []Axis
	for _, k := range order {
		kp := []string{"grid", k}
		field := fieldName(kp)
		if _, ok := configFieldMap[k]; !ok || reservedKeys[k] != "" {
			_, msg, _ := checkOverride(k, nil)
			p.fail(kp, field, msg, nil)
			continue
		}
		l, ok := t[k].([]any)
		if !ok {
			p.fail(kp, field, "expected an array of values for the axis, got "+describe(t[k]), nil)
			continue
		}
		if len(l) == 0 {
			p.fail(kp, field, "has no values", nil)
			continue
		}
		a := Axis{Key: k}
		seen := map[string]bool{}
		good := true
		for i, x := range l {
			nv, msg, allowed := checkOverride(k, x)
			if msg != "" {
				p.fail(kp, field, fmt.Sprintf("value %d: %s", i+1, msg), allowed)
				good = false
				continue
			}
			if lv := labelValue(nv); seen[lv] {
				p.fail(kp, field, fmt.Sprintf("value %s appears twice", lv), nil)
				good = false
			} else {
				seen[lv] = true
			}
			a.Values = append(a.Values, nv)
		}
		if good {
			out = append(out, a)
		}
	}
	return out
}

// crossCheck validates each variant's merged config (without a profile;
// Expand checks again with one) and blames the key that made it invalid.
func (p *parser) crossCheck(s *Study) {
	points := 1
	for _, a := range s.Grid {
		points *= len(a.Values)
	}
	for k, v := range s.Variants {
		named := -1 // the [[variant]] entry this variant comes from (Product's order)
		if len(s.Named) > 0 {
			named = k / points
		}
		cfg := buildConfig(Profile{}, s.Backbone, "", s.Base, v.Overrides)
		for _, prob := range crossCheck(cfg) {
			kp, field := p.blame(s, named, prob.related...)
			p.fail(kp, field, fmt.Sprintf("in variant %q: %s", v.Label, prob.msg), prob.allowed)
		}
	}
}

// blame finds where the first of keys is set for a variant made from
// [[variant]] entry idx (-1: none): its grid axis, its entry, then [base];
// failing those, the entry itself.
func (p *parser) blame(s *Study, idx int, keys ...string) ([]string, string) {
	isNamed := idx >= 0
	for _, k := range keys {
		for _, a := range s.Grid {
			if a.Key == k {
				kp := []string{"grid", k}
				return kp, fieldName(kp)
			}
		}
		if isNamed {
			if _, ok := s.Named[idx].Overrides[k]; ok {
				kp := []string{"variant", strconv.Itoa(idx), k}
				return kp, fieldName(kp)
			}
		}
	}
	for _, k := range keys {
		if _, ok := s.Base[k]; ok {
			kp := []string{"base", k}
			return kp, fieldName(kp)
		}
	}
	if isNamed {
		kp := []string{"variant", strconv.Itoa(idx)}
		return kp, fieldName(kp)
	}
	return []string{"grid"}, "grid"
}

func (p *parser) paper(v any, labels []string) []PaperFigure {
	var out []PaperFigure
	for i, t := range p.tables(v, "paper") {
		at := []string{"paper", strconv.Itoa(i)}
		p.unknownKeys(t, at, paperKeys)
		f := PaperFigure{
			Variant:      p.str(t, "variant", at...),
			Metric:       p.str(t, "metric", at...),
			Note:         p.str(t, "note", at...),
			Versus:       p.str(t, "versus", at...),
			VersusMetric: p.str(t, "versus_metric", at...),
		}
		p.label(t, at, "variant", f.Variant, labels, true)
		p.label(t, at, "versus", f.Versus, labels, false)
		p.metric(t, at, "metric", f.Metric, true)
		p.metric(t, at, "versus_metric", f.VersusMetric, false)
		switch x := t["value"].(type) {
		case nil:
			p.fail(at, fieldName(at)+".value", "missing: the paper's figure", nil)
		case int64:
			f.Value = float64(x)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				p.fail(append(at, "value"), fieldName(at)+".value", fmtFloat(x)+" is not a finite number", nil)
			}
			f.Value = x
		default:
			p.fail(append(at, "value"), fieldName(at)+".value", "expected a number, got "+describe(x), nil)
		}
		if pv, ok := t["percent"]; ok {
			b, isBool := pv.(bool)
			switch {
			case !isBool:
				p.fail(append(at, "percent"), fieldName(at)+".percent", "expected true or false, got "+describe(pv), nil)
			case b && !f.IsDifference():
				p.fail(append(at, "percent"), fieldName(at)+".percent", "a percentage is relative to something: set versus (a variant) or versus_metric", nil)
			}
			f.Percent = b
		}
		versus, vm := f.Versus, f.VersusMetric
		if versus == "" {
			versus = f.Variant
		}
		if vm == "" {
			vm = f.Metric
		}
		if f.IsDifference() && versus == f.Variant && vm == f.Metric {
			p.fail(at, fieldName(at), "compares the figure with itself: versus or versus_metric must differ", nil)
		}
		out = append(out, f)
	}
	return out
}

func (p *parser) claims(v any, labels []string, s *Study) []Claim {
	var out []Claim
	for i, t := range p.tables(v, "claim") {
		at := []string{"claim", strconv.Itoa(i)}
		p.unknownKeys(t, at, claimKeys)
		c := Claim{
			Text:     p.str(t, "text", at...),
			Metric:   p.str(t, "metric", at...),
			Variant:  p.str(t, "variant", at...),
			Baseline: p.str(t, "baseline", at...),
			Expect:   p.str(t, "expect", at...),

			Variant2:  p.str(t, "variant2", at...),
			Baseline2: p.str(t, "baseline2", at...),

			VersusMetric: p.str(t, "versus_metric", at...),
			Source:       p.str(t, "source", at...),
		}
		if c.Text == "" {
			p.fail(at, fieldName(at)+".text", "missing: state the claim in words", nil)
		}
		p.label(t, at, "variant", c.Variant, labels, true)
		p.label(t, at, "baseline", c.Baseline, labels, false)
		if c.Baseline == "" {
			c.Baseline = s.Baseline
		}
		if c.Variant != "" && c.Variant == c.Baseline && (c.VersusMetric == "" || c.VersusMetric == c.Metric) {
			p.fail(at, fieldName(at), fmt.Sprintf("compares variant %q with itself (set versus_metric to compare two of its metrics)", c.Variant), nil)
		}
		p.interaction(t, at, c, labels)
		p.metric(t, at, "metric", c.Metric, true)
		p.metric(t, at, "versus_metric", c.VersusMetric, false)
		for _, k := range []string{"metric", "versus_metric"} {
			m := c.Metric
			if k == "versus_metric" {
				m = c.VersusMetric
			}
			if m != "" && KnownMetric(m) && !slices.Contains(s.Metrics, m) && len(s.Metrics) > 0 {
				p.fail(append(at, k), fieldName(at)+"."+k, fmt.Sprintf("%q is not among the study's metrics; add it to metrics so the claim's numbers are tabulated", m), shortList(s.Metrics))
			}
		}
		if v, ok := p.number(t, at, "tolerance"); ok {
			if v <= 0 {
				p.fail(append(at, "tolerance"), fieldName(at)+".tolerance", fmtFloat(v)+" is not above 0 (the equivalence margin, in the metric's units)", nil)
			}
			c.Tolerance = v
		}
		if v, ok := p.number(t, at, "delta"); ok {
			c.Delta = &v
			if c.Expect == "higher" && v <= 0 || c.Expect == "lower" && v >= 0 {
				what := "variant − baseline"
				if c.Interaction() {
					what = "(variant − baseline) − (variant2 − baseline2)"
				}
				p.fail(append(at, "delta"), fieldName(at)+".delta", fmt.Sprintf("%s contradicts expect = %q (delta is %s)", fmtFloat(v), c.Expect, what), nil)
			}
		}
		if c.Source != "" && !slices.Contains(ClaimSources, c.Source) {
			p.fail(append(at, "source"), fieldName(at)+".source", enumMsg(c.Source, ClaimSources), ClaimSources)
		}
		switch {
		case c.Expect == "":
			p.fail(at, fieldName(at)+".expect", "missing: how the variant compares with the baseline", Expectations)
		case !slices.Contains(Expectations, c.Expect):
			p.fail(append(at, "expect"), fieldName(at)+".expect", enumMsg(c.Expect, Expectations), Expectations)
		}
		out = append(out, c)
	}
	return out
}

// interaction checks the second gain of an interaction claim: both of
// variant2 and baseline2 (no default: a gain to compare with is named in
// full), known labels, not a variant against itself, and not the first
// gain again (whose Δ would be 0 by construction).
func (p *parser) interaction(t map[string]any, at []string, c Claim, labels []string) {
	_, hasV2 := t["variant2"]
	_, hasB2 := t["baseline2"]
	if !hasV2 && !hasB2 {
		return
	}
	for _, k := range []string{"variant2", "baseline2"} {
		if t[k] == "" { // present but empty: label() lets that pass
			p.fail(append(slices.Clone(at), k), fieldName(at)+"."+k, "is empty: name a variant (an interaction claim needs variant2 and baseline2)", shortList(labels))
		}
	}
	p.label(t, at, "variant2", c.Variant2, labels, true)
	p.label(t, at, "baseline2", c.Baseline2, labels, true)
	if c.Variant2 == "" || c.Baseline2 == "" {
		return
	}
	sameMetric := c.VersusMetric == "" || c.VersusMetric == c.Metric
	switch {
	case c.Variant2 == c.Baseline2 && sameMetric:
		p.fail(append(slices.Clone(at), "baseline2"), fieldName(at)+".baseline2", fmt.Sprintf("compares variant2 %q with itself: the second gain must be between two variants", c.Variant2), nil)
	case c.Variant2 == c.Variant && c.Baseline2 == c.Baseline:
		p.fail(append(slices.Clone(at), "variant2"), fieldName(at)+".variant2", fmt.Sprintf("the second gain (%s − %s) is the first: its Δ is 0 by construction", c.Variant2, c.Baseline2), nil)
	}
}

// number reads an optional finite number (integer or float) of a claim.
func (p *parser) number(t map[string]any, at []string, key string) (float64, bool) {
	kp := append(slices.Clone(at), key)
	switch x := t[key].(type) {
	case nil:
		return 0, false
	case int64:
		return float64(x), true
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			p.fail(kp, fieldName(kp), fmtFloat(x)+" is not a finite number", nil)
			return 0, false
		}
		return x, true
	default:
		p.fail(kp, fieldName(kp), "expected a number, got "+describe(x), nil)
		return 0, false
	}
}

func (p *parser) unknownKeys(t map[string]any, at []string, allowed []string) {
	for _, k := range sortedKeys(t) {
		if slices.Contains(allowed, k) {
			continue
		}
		kp := append(slices.Clone(at), k)
		p.fail(kp, fieldName(kp), "unknown key"+didYouMean(k, allowed), allowed)
	}
}

func (p *parser) label(t map[string]any, at []string, key, label string, labels []string, required bool) {
	kp := append(slices.Clone(at), key)
	switch {
	case label == "" && required:
		if _, present := t[key]; !present {
			p.fail(at, fieldName(kp), "missing: the variant label it refers to", shortList(labels))
		}
	case label != "" && len(labels) > 0 && !slices.Contains(labels, label):
		p.fail(kp, fieldName(kp), p.labelMsg(label, labels), shortList(labels))
	}
}

func (p *parser) metric(t map[string]any, at []string, key, m string, required bool) {
	kp := append(slices.Clone(at), key)
	switch {
	case m == "" && required:
		if _, present := t[key]; !present {
			p.fail(at, fieldName(kp), "missing: the metric key", nil)
		}
	case m != "" && !KnownMetric(m):
		p.fail(kp, fieldName(kp), metricMsg(m), nil)
	}
}
