package tui

import (
	"strings"

	bcursor "github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// filterBox is the "/" filter of a list: while editing it takes the keys;
// afterwards its query stays applied until cleared.
type filterBox struct {
	input   textinput.Model
	editing bool
}

func newFilterBox() filterBox {
	ti := textinput.New()
	ti.Prompt = "/"
	ti.Placeholder = "words or field=value"
	ti.CharLimit = 200
	ti.Cursor.SetMode(bcursor.CursorStatic)
	return filterBox{input: ti}
}

func (f *filterBox) query() string { return strings.TrimSpace(f.input.Value()) }

// start opens the filter for editing.
func (f *filterBox) start() tea.Cmd {
	f.editing = true
	return f.input.Focus()
}

// handle applies a filter action; it reports whether the query changed.
func (f *filterBox) handle(a Action) bool {
	switch a {
	case actFilterApply:
		f.editing = false
		f.input.Blur()
	case actFilterClear:
		f.editing = false
		f.input.Blur()
		if f.input.Value() != "" {
			f.input.SetValue("")
			return true
		}
	}
	return false
}

// handleList gives a list's filter the actions it owns: keep and clear
// while editing, "/" to start editing, and esc to clear a standing query.
// refilter runs when the query changed. It reports whether it took a; the
// global keys that work while typing (tab, ctrl+c) pass through.
func (f *filterBox) handleList(a Action, refilter func()) (tea.Cmd, bool) {
	switch {
	case f.editing && (a == actFilterApply || a == actFilterClear):
		if f.handle(a) {
			refilter()
		}
		return nil, true
	case f.editing:
		return nil, false
	case a == actFilter:
		return f.start(), true
	case a == actBack && f.query() != "":
		f.handle(actFilterClear)
		refilter()
		return nil, true
	}
	return nil, false
}

// update types a key into the filter; refilter runs when the query changed.
func (f *filterBox) update(msg tea.Msg, refilter func()) tea.Cmd {
	return typeInto(&f.input, msg, refilter)
}

// typeInto types a key into a text input; changed runs when its value
// changed.
func typeInto(in *textinput.Model, msg tea.Msg, changed func()) tea.Cmd {
	before := in.Value()
	var cmd tea.Cmd
	*in, cmd = in.Update(msg)
	if in.Value() != before {
		changed()
	}
	return cmd
}

// view is the filter line ("" when there is no filter).
func (f *filterBox) view(w int) string {
	if !f.editing && f.query() == "" {
		return ""
	}
	if f.editing {
		f.input.Width = max(w-3, 1)
		return fit(f.input.View(), w)
	}
	return fit(stDim.Render("filter: ")+f.query()+stDim.Render("  (/ to edit, esc on it to clear)"), w)
}

// matcher is a parsed filter query: every term must match. A term
// "field=value" matches when the named field equals value (status=running,
// seed=1); a bare word matches when any field contains it. Matching ignores
// case.
type matcher struct {
	terms []filterTerm
}

type filterTerm struct {
	field, value string
}

func parseQuery(q string) matcher {
	var m matcher
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if i := strings.IndexByte(w, '='); i > 0 {
			m.terms = append(m.terms, filterTerm{field: w[:i], value: w[i+1:]})
		} else {
			m.terms = append(m.terms, filterTerm{value: w})
		}
	}
	return m
}

func (m matcher) empty() bool { return len(m.terms) == 0 }

// match tests a row given as parallel slices of field names (in lower
// case) and values.
func (m matcher) match(names, values []string) bool {
	lower := make([]string, len(values))
	for i, v := range values {
		lower[i] = strings.ToLower(v)
	}
	return m.matchLower(names, lower)
}

// matchLower is match for values already in lower case.
func (m matcher) matchLower(names, values []string) bool {
	for _, t := range m.terms {
		ok := false
		for i, v := range values {
			if t.field != "" {
				if names[i] == t.field && v == t.value {
					ok = true
					break
				}
				continue
			}
			if strings.Contains(v, t.value) {
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
