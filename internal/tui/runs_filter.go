package tui

import (
	"strings"

	"github.com/mksmt/workbench/internal/filter"
)

// runQuery is the Runs screen's "/" query: terms with an operator are the
// filter language of `workbench runs --where` (internal/filter: status:
// finished, temperature=4, acc.S4>60, tag:x, archived:true; an unknown
// field is an error with did-you-mean), and bare words, a TUI shortcut,
// must each appear in some cell of the row.
type runQuery struct {
	f     *filter.Filter
	words []string // lower case
}

// parseRunQuery splits a query into bare words and filter terms and
// parses the terms. A word is bare when it has no operator character and
// no operator stands next to it ("acc.S4 > 60" is one term), outside
// quotes; "and" belongs to the filter.
func parseRunQuery(q string, known filter.Known) (runQuery, error) {
	var terms []string
	var out runQuery
	fields := strings.Fields(q)
	const ops = ":=!<>~"
	for i, w := range fields {
		inQuote := strings.Count(strings.Join(terms, " "), `"`)%2 == 1
		opNext := i+1 < len(fields) && strings.ContainsAny(fields[i+1][:1], ops)
		opPrev := i > 0 && strings.ContainsAny(fields[i-1][len(fields[i-1])-1:], ops)
		if !inQuote && !opNext && !opPrev && !strings.ContainsAny(w, ops+`"`) && !strings.EqualFold(w, "and") {
			out.words = append(out.words, strings.ToLower(w))
			continue
		}
		terms = append(terms, w)
	}
	f, err := filter.Parse(strings.Join(terms, " "), known)
	if err != nil {
		return runQuery{}, err
	}
	out.f = f
	return out, nil
}

// archivedShown reports whether the query asks about archived runs (then
// they are not hidden).
func (q runQuery) archivedShown() bool { return q.f != nil && q.f.MentionsArchived() }

// match reports whether a row passes the filter terms and has every word.
func (q runQuery) match(r *runRow) bool {
	if !q.f.Match(r.rec) {
		return false
	}
	for _, w := range q.words {
		ok := false
		for _, c := range r.match {
			if strings.Contains(c, w) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
