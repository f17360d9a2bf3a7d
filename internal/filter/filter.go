// Package filter is the one filter language of the workbench: `workbench
// runs --where` and the TUI's `/` parse the same expressions and select
// the same runs.
//
// # Grammar
//
//	filter = term { sep term }          every term must hold (AND)
//	sep    = whitespace | "," | "and"   (one or more; "and" in any case)
//	term   = ["-"] field op value       a leading "-" negates the term; spaces around op are fine (acc.S4 > 60)
//	op     = ":" | "=" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "!~"
//	value  = word | '"' text '"'        a word ends at whitespace or ","; \" and \\ escape inside quotes
//	         with ":", "=", "!=", "~" and "!~", value may list alternatives: a|b|c (any of them)
//
// ":" and "=" are the same (status:finished, temperature=4). "~" is
// "contains", ignoring case (note~lr); "!=" and "!~" are the negations of
// "=" and "~", so a run without the field matches them. There is no OR
// between terms: list values instead (status:failed|diverged).
//
// # Fields
//
// A field is, in this order of precedence:
//   - a run field: id, seed, attempts (numbers); status (queued, running,
//     finished, failed, interrupted, diverged); archived (true or false);
//     study and variant (any study that uses the run, under any of its
//     labels); tag (the run has that tag); note, error, host, dataset,
//     config_hash, code_version, git_commit (text);
//   - a summary key, compared as numbers (acc.S4>60, params.inference<2e6):
//     the run's final value; a run without it (still running, failed)
//     matches only != and !~;
//   - a param name (temperature=4, profile:smoke, steps>=2): compared as
//     numbers when both sides are numbers (4 matches "4.0"), else as text.
//
// An unknown field is an error that suggests the nearest known one (run
// fields, the param names and summary keys present in the store, and the
// toml names of a run's config): a filter never silently selects nothing
// because of a typo.
//
// # Use
//
//	known, err := filter.KnownIn(ctx, st)         // what a filter may name
//	f, err := filter.Parse(input, known)           // err says what is wrong, with did-you-mean
//	sel, err := filter.Select(ctx, st, store.RunFilter{}, f, filter.HideArchived)
//	// sel.Records: the runs with params, summaries, marks and studies;
//	// sel.Hidden: the matching archived runs left out; f.String(): the filter as understood.
//
// Records already loaded (filter.Load) are matched with f.Match.
package filter

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mksmt/workbench/internal/store"
)

// kind is what a field names.
type kind int

const (
	kindColumn kind = iota
	kindSummary
	kindParam
)

func (k kind) String() string {
	switch k {
	case kindSummary:
		return "summary"
	case kindParam:
		return "param"
	}
	return "run field"
}

// colType is how a run field compares.
type colType int

const (
	colText colType = iota
	colNumber
	colStatus
	colBool
	colSet // tag: a run has several
)

// Columns are the run fields, with how they compare.
var columns = map[string]colType{
	"id": colNumber, "seed": colNumber, "attempts": colNumber,
	"status": colStatus, "archived": colBool, "tag": colSet,
	"study": colText, "variant": colText, "note": colText, "error": colText,
	"host": colText, "dataset": colText, "config_hash": colText, "code_version": colText, "git_commit": colText,
}

// Columns lists the run fields a filter may name, sorted.
func Columns() []string {
	out := make([]string, 0, len(columns))
	for c := range columns {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

type op string

const (
	opEq      op = "="
	opNe      op = "!="
	opGt      op = ">"
	opGe      op = ">="
	opLt      op = "<"
	opLe      op = "<="
	opHas     op = "~"
	opHasNot  op = "!~"
	opEqColon op = ":" // parsed as opEq; kept for messages
)

// ops in the order the tokenizer tries them (longest first).
var ops = []op{opNe, opHasNot, opGe, opLe, opEqColon, opEq, opGt, opLt, opHas}

type term struct {
	text   string // as written
	neg    bool
	field  string
	kind   kind
	col    colType
	op     op
	values []string  // alternatives
	nums   []float64 // the alternatives as numbers (NaN where not a number)
	flag   bool      // archived's value
}

// Filter is a parsed filter. The zero value and nil select every run.
type Filter struct {
	terms []term
}

// Empty reports whether the filter selects every run.
func (f *Filter) Empty() bool { return f == nil || len(f.terms) == 0 }

// MentionsArchived reports whether a term names the archived field: then
// the filter decides about archived runs, and they are not hidden.
func (f *Filter) MentionsArchived() bool {
	if f == nil {
		return false
	}
	for _, t := range f.terms {
		if t.field == "archived" {
			return true
		}
	}
	return false
}

// And is a filter that selects what both select.
func (f *Filter) And(g *Filter) *Filter {
	out := &Filter{}
	if f != nil {
		out.terms = append(out.terms, f.terms...)
	}
	if g != nil {
		out.terms = append(out.terms, g.terms...)
	}
	return out
}

// String is the filter as it was understood: each term with its kind,
// joined by AND ("temperature = 4 (param) AND acc.S4 > 60 (summary)").
func (f *Filter) String() string {
	if f.Empty() {
		return "every run"
	}
	parts := make([]string, len(f.terms))
	for i, t := range f.terms {
		vals := make([]string, len(t.values))
		for j, v := range t.values {
			if v == "" || strings.ContainsAny(v, " ,\"|") {
				v = strconv.Quote(v)
			}
			vals[j] = v
		}
		s := fmt.Sprintf("%s %s %s (%s)", t.field, t.op, strings.Join(vals, "|"), t.kind)
		if t.neg {
			s = "NOT " + s
		}
		parts[i] = s
	}
	return strings.Join(parts, " AND ")
}

// Known is what a filter may name besides the run fields.
type Known struct {
	Params    []string // param names
	Summaries []string // summary keys
}

func (k Known) has(list []string, name string) bool { return slices.Contains(list, name) }

// Parse reads a filter (see the package comment). An empty or blank
// expression selects every run. Errors name the term and, for an unknown
// field or status, the nearest known ones.
func Parse(expr string, k Known) (*Filter, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	f := &Filter{}
	for _, tk := range toks {
		t, err := k.resolve(tk)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", tk.text, err)
		}
		f.terms = append(f.terms, t)
	}
	return f, nil
}

// ParseAll parses each expression and ANDs them (repeated --where flags).
func ParseAll(exprs []string, k Known) (*Filter, error) {
	f := &Filter{}
	for _, e := range exprs {
		g, err := Parse(e, k)
		if err != nil {
			return nil, err
		}
		f = f.And(g)
	}
	return f, nil
}

// token is a term as written, before its field is resolved.
type token struct {
	text   string
	neg    bool
	field  string
	op     op
	values []string
}

func skipBlanks(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

func isSep(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' }

func isOpChar(c byte) bool { return strings.IndexByte(":=!<>~", c) >= 0 }

func tokenize(s string) ([]token, error) {
	var out []token
	i := 0
	for {
		for i < len(s) && isSep(s[i]) {
			i++
		}
		if i >= len(s) {
			return out, nil
		}
		start := i
		var tk token
		if s[i] == '-' {
			tk.neg = true
			i++
		}
		fs := i
		for i < len(s) && !isSep(s[i]) && !isOpChar(s[i]) && s[i] != '"' {
			i++
		}
		tk.field = s[fs:i]
		// An operator may stand apart from its field and value (acc.S4 > 60).
		if j := skipBlanks(s, i); j > i && j < len(s) && isOpChar(s[j]) && tk.field != "" {
			i = j
		}
		if i >= len(s) || isSep(s[i]) {
			word := s[start:i]
			switch strings.ToLower(word) {
			case "and":
				continue
			case "or":
				return nil, fmt.Errorf("%q: terms are all ANDed; for either of two values write field:a|b (status:failed|diverged)", word)
			}
			return nil, fmt.Errorf("%q: want field, operator and value, e.g. status:finished, temperature=4 or acc.S4>60", word)
		}
		if s[i] == '"' {
			return nil, fmt.Errorf("%q: a field name cannot be quoted; quote values only (note~\"bad lr\")", s[start:])
		}
		if tk.field == "" {
			return nil, fmt.Errorf("%q: no field before %q", termText(s, start), string(s[i]))
		}
		for _, o := range ops {
			if strings.HasPrefix(s[i:], string(o)) {
				tk.op = o
				i += len(o)
				break
			}
		}
		if tk.op == "" {
			return nil, fmt.Errorf("%q: unknown operator %q (use : = != > >= < <= ~ !~)", termText(s, start), string(s[i]))
		}
		var raw string
		quoted := false
		j := skipBlanks(s, i)
		spaced := j > i && j < len(s) && s[j] != ','
		if spaced {
			i = j
		}
		if i < len(s) && s[i] == '"' {
			v, n, err := readQuoted(s[i:])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", s[start:], err)
			}
			raw, quoted, i = v, true, i+n
			if i < len(s) && !isSep(s[i]) {
				return nil, fmt.Errorf("%q: text after the closing quote", termText(s, start))
			}
		} else {
			vs := i
			for i < len(s) && !isSep(s[i]) {
				i++
			}
			raw = s[vs:i]
		}
		tk.text = s[start:i]
		if raw == "" && !quoted {
			return nil, fmt.Errorf("%q: no value after %q (an empty value is written \"\")", strings.TrimSpace(tk.text), string(tk.op))
		}
		if spaced && !quoted && strings.ContainsAny(raw, ":=!<>~") {
			// "tag: status:finished" lost the tag's value.
			return nil, fmt.Errorf("%q: no value after %q? (a value with : = ! < > ~ after a space is written in quotes)", tk.text, string(tk.op))
		}
		if tk.op == opEqColon {
			tk.op = opEq
		}
		if quoted || (tk.op != opEq && tk.op != opNe && tk.op != opHas && tk.op != opHasNot) {
			tk.values = []string{raw}
		} else {
			tk.values = strings.Split(raw, "|")
			if slices.Contains(tk.values, "") {
				return nil, fmt.Errorf("%q: an empty alternative in %q", tk.text, raw)
			}
		}
		out = append(out, tk)
	}
}

// termText is the term starting at start, up to the next separator.
func termText(s string, start int) string {
	end := start
	for end < len(s) && !isSep(s[end]) {
		end++
	}
	return s[start:end]
}

// readQuoted reads a "…" string at the start of s; it returns the text and
// the bytes read.
func readQuoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte('\\')
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("a quote is not closed")
}

// resolve finds what a token's field names and checks its values.
func (k Known) resolve(tk token) (term, error) {
	t := term{text: tk.text, neg: tk.neg, field: tk.field, op: tk.op, values: tk.values}
	numeric := func() error {
		t.nums = make([]float64, len(t.values))
		for i, v := range t.values {
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return fmt.Errorf("%s compares numbers; %q is not one", t.field, v)
			}
			t.nums[i] = x
		}
		return nil
	}
	ordering := t.op == opGt || t.op == opGe || t.op == opLt || t.op == opLe
	contains := t.op == opHas || t.op == opHasNot
	if c, ok := columns[tk.field]; ok {
		t.kind, t.col = kindColumn, c
		switch c {
		case colNumber:
			if contains {
				return t, fmt.Errorf("%s is a number: use = != > >= < <=", t.field)
			}
			return t, numeric()
		case colStatus:
			if ordering || contains {
				return t, fmt.Errorf("status takes = or != (status:finished, status!=failed)")
			}
			for _, v := range t.values {
				if _, err := store.ParseStatus(v); err != nil {
					names := make([]string, len(store.Statuses))
					for i, s := range store.Statuses {
						names[i] = string(s)
					}
					return t, fmt.Errorf("unknown status %q%s (allowed: %s)", v, didYouMean(v, names), strings.Join(names, ", "))
				}
			}
		case colBool:
			if ordering || contains || len(t.values) != 1 {
				return t, fmt.Errorf("archived takes one value, true or false (archived:true)")
			}
			switch strings.ToLower(t.values[0]) {
			case "true", "yes", "1":
				t.flag = true
			case "false", "no", "0":
			default:
				return t, fmt.Errorf("archived is true or false, not %q", t.values[0])
			}
		case colSet, colText:
			if ordering {
				return t, fmt.Errorf("%s is text: use = != ~ !~ (~ is contains)", t.field)
			}
		}
		return t, nil
	}
	if k.has(k.Summaries, tk.field) {
		t.kind = kindSummary
		if contains {
			return t, fmt.Errorf("%s is a number: use = != > >= < <=", t.field)
		}
		return t, numeric()
	}
	if k.has(k.Params, tk.field) {
		t.kind = kindParam
		if ordering {
			if err := numeric(); err != nil {
				return t, err
			}
			return t, nil
		}
		t.nums = make([]float64, len(t.values))
		for i, v := range t.values {
			t.nums[i] = parseNum(v)
		}
		return t, nil
	}
	return t, k.unknown(tk.field)
}

func parseNum(s string) float64 {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return math.NaN()
	}
	return x
}

// UnknownField is the error of a field that is no run field, param or
// summary key: it names the nearest known ones.
type UnknownField struct {
	Field   string
	Suggest []string // nearest known fields, best first (may be empty)
	Known   Known
}

func (e *UnknownField) Error() string {
	if len(e.Suggest) > 0 {
		return fmt.Sprintf("unknown field %q (did you mean %s?)", e.Field, orList(e.Suggest))
	}
	return fmt.Sprintf("unknown field %q: fields are run fields (%s), params (%s) and summary keys (%s)",
		e.Field, strings.Join(Columns(), ", "), few(e.Known.Params), few(e.Known.Summaries))
}

func (k Known) unknown(field string) error {
	all := append(append(Columns(), k.Params...), k.Summaries...)
	return &UnknownField{Field: field, Suggest: Suggest(field, all), Known: k}
}

// CheckParam checks a param name (workbench runs --param NAME=V): an error
// with the nearest known names when no run has it and a run's config has
// no such setting.
func (k Known) CheckParam(name string) error {
	if k.has(k.Params, name) {
		return nil
	}
	sugg := Suggest(name, k.Params)
	if len(sugg) > 0 {
		return fmt.Errorf("unknown param %q (did you mean %s?)", name, orList(sugg))
	}
	return fmt.Errorf("unknown param %q: params are %s", name, few(k.Params))
}

func few(list []string) string {
	if len(list) == 0 {
		return "none yet"
	}
	if len(list) > 8 {
		return strings.Join(list[:8], ", ") + ", …"
	}
	return strings.Join(list, ", ")
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func didYouMean(v string, known []string) string {
	if s := Suggest(v, known); len(s) > 0 {
		return " (did you mean " + orList(s) + "?)"
	}
	return ""
}

// Suggest returns up to three of known nearest to name, best first: the
// same name in another case, names ending in "."+name (s4 → acc.S4), and
// names within a small Levenshtein distance (ignoring case).
func Suggest(name string, known []string) []string {
	type cand struct {
		s string
		d int
	}
	lname := strings.ToLower(name)
	limit := max(1, min(3, len([]rune(name))/3))
	var cs []cand
	seen := map[string]bool{}
	for _, k := range known {
		if seen[k] || k == name {
			continue
		}
		seen[k] = true
		lk := strings.ToLower(k)
		switch d := levenshtein(lname, lk); {
		case lk == lname:
			cs = append(cs, cand{k, 0})
		case strings.HasSuffix(lk, "."+lname) || strings.HasSuffix(lk, "_"+lname):
			cs = append(cs, cand{k, 1})
		case d <= limit:
			cs = append(cs, cand{k, d})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int {
		if a.d != b.d {
			return a.d - b.d
		}
		return strings.Compare(a.s, b.s)
	})
	var out []string
	for _, c := range cs {
		if len(out) == 3 || (len(out) > 0 && cs[0].d == 0 && c.d > 0) {
			break // the same name in another case is the answer
		}
		out = append(out, c.s)
	}
	return out
}

// levenshtein is the edit distance between a and b, in runes.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
