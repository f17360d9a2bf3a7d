package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mksmt/workbench/internal/store"
)

// studyRow is one study: its spec file (if any) merged with its record in
// runs.db (if it was ever run).
type studyRow struct {
	name, title, table, description string
	specPath                        string
	specErr                         error
	variants, seeds                 int
	profile                         string
	info                            *store.StudyInfo
}

// expected is the number of runs the spec asks for (0 without a spec).
func (r studyRow) expected() int { return r.variants * r.seeds }

// total is the denominator of the progress: the runs recorded, or the runs
// the spec asks for when more.
func (r studyRow) total() int {
	t := r.expected()
	if r.info != nil && r.info.Total > t {
		t = r.info.Total
	}
	return t
}

func (r studyRow) finished() int {
	if r.info == nil {
		return 0
	}
	return r.info.Finished
}

// state says in a few words where the study stands.
func (r studyRow) state() string {
	switch {
	case r.specErr != nil:
		return "invalid spec"
	case r.info == nil || r.info.Total == 0:
		return "not run"
	case r.info.Counts[store.Running] > 0:
		return fmt.Sprintf("%d running", r.info.Counts[store.Running])
	case r.info.Counts[store.Queued] > 0:
		return fmt.Sprintf("%d queued", r.info.Counts[store.Queued])
	case r.info.Counts[store.Failed]+r.info.Counts[store.Diverged] > 0:
		return fmt.Sprintf("%d failed", r.info.Counts[store.Failed]+r.info.Counts[store.Diverged])
	case r.info.Counts[store.Interrupted] > 0:
		return fmt.Sprintf("%d interrupted", r.info.Counts[store.Interrupted])
	case r.finished() >= r.total():
		return "done"
	}
	return "partial"
}

type studiesLoaded struct {
	rows []studyRow
	err  error
}

// studiesScreen lists the spec files in experiments/ and the studies in
// runs.db with their progress.
type studiesScreen struct {
	all    []studyRow
	shown  []int // indexes into all, after the filter
	cur    cursor
	filter filterBox
	loaded bool
	err    error
	listH  int
}

func newStudies() *studiesScreen { return &studiesScreen{filter: newFilterBox()} }

func (s *studiesScreen) title() string { return "Studies" }

func (s *studiesScreen) scopes() []Scope {
	if s.filter.editing {
		return []Scope{ScopeFilter}
	}
	return []Scope{ScopeStudies, ScopeList}
}

func (s *studiesScreen) typing() bool { return s.filter.editing }

// leave keeps the filter being typed when the user switches screens.
func (s *studiesScreen) leave() { s.filter.handle(actFilterApply) }

func (s *studiesScreen) load(m *Model) tea.Cmd {
	be, ctx := m.be, m.ctx
	return func() tea.Msg {
		rows, err := loadStudies(ctx, be)
		return studiesLoaded{rows: rows, err: err}
	}
}

// loadStudies merges the spec files and the recorded studies by name.
func loadStudies(ctx context.Context, be *backend) ([]studyRow, error) {
	specs, specErr := be.specs()
	infos, err := be.store.Studies(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*studyRow{}
	var rows []*studyRow
	get := func(name string) *studyRow {
		if r, ok := byName[name]; ok {
			return r
		}
		r := &studyRow{name: name}
		byName[name] = r
		rows = append(rows, r)
		return r
	}
	for _, sp := range specs {
		name := strings.TrimSuffix(filepath.Base(sp.Path), ".toml")
		if sp.Study != nil {
			name = sp.Study.Name
		}
		r := get(name)
		r.specPath, r.specErr = sp.Path, sp.Err
		if st := sp.Study; st != nil {
			r.title, r.table, r.description = st.Title, st.Table, st.Description
			r.variants, r.seeds, r.profile = len(st.Variants), len(st.Seeds), st.Profile
		}
	}
	for i := range infos {
		r := get(infos[i].Name)
		r.info = &infos[i]
		if r.title == "" {
			r.title = infos[i].Title
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	out := make([]studyRow, len(rows))
	for i, r := range rows {
		out[i] = *r
	}
	return out, specErr
}

func (s *studiesScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case studiesLoaded:
		s.loaded = true
		s.err = msg.err
		if msg.rows != nil || msg.err == nil {
			s.all = msg.rows
		}
		s.applyFilter()
	case tea.KeyMsg:
		if s.filter.editing {
			return s.filter.update(msg, s.applyFilter)
		}
	}
	return nil
}

var studyFields = []string{"study", "title", "table", "state"}

func (s *studiesScreen) applyFilter() {
	q := parseQuery(s.filter.query())
	s.shown = s.shown[:0]
	for i, r := range s.all {
		if q.empty() || q.match(studyFields, []string{r.name, r.title, r.table, r.state()}) {
			s.shown = append(s.shown, i)
		}
	}
	s.cur.scroll(len(s.shown), s.listH)
}

// selected is the study under the cursor.
func (s *studiesScreen) selected() (studyRow, bool) {
	if s.cur.pos < 0 || s.cur.pos >= len(s.shown) {
		return studyRow{}, false
	}
	return s.all[s.shown[s.cur.pos]], true
}

func (s *studiesScreen) handle(m *Model, a Action) (tea.Cmd, bool) {
	if cmd, ok := s.filter.handleList(a, s.applyFilter); ok {
		return cmd, true
	}
	if s.cur.handleNav(a, len(s.shown), s.listH) {
		return nil, true
	}
	switch a {
	case actOpenStudy:
		r, ok := s.selected()
		if !ok {
			return nil, true
		}
		return m.openCompare(r.name), true
	case actNewStudy:
		return m.openBuilder(nil, false), true
	case actEditStudy, actCopyStudy:
		r, ok := s.selected()
		if !ok {
			return nil, true
		}
		if r.specPath == "" || r.specErr != nil {
			m.setStatus(fmt.Sprintf("study %s has no valid spec file to edit or copy", r.name), nil)
			return nil, true
		}
		return m.openBuilder(&r, a == actCopyStudy), true
	case actRunStudy:
		r, ok := s.selected()
		if !ok {
			return nil, true
		}
		return m.runStudy(r.name, r.specPath, r.specErr, r.profile, r.expected()), true
	}
	return nil, false
}

func (s *studiesScreen) view(m *Model, w, h int) string {
	var lines []string
	if fl := s.filter.view(w); fl != "" {
		lines = append(lines, fl)
	}
	detailH := 4
	s.listH = max(h-len(lines)-1-detailH, 1)
	switch {
	case s.err != nil && len(s.all) == 0:
		lines = append(lines, stErr.Render("cannot list studies: "+s.err.Error()))
	case !s.loaded:
		lines = append(lines, "loading studies…")
	case len(s.all) == 0:
		lines = append(lines, "No studies yet: no spec files in "+m.be.specDir+"/ and none in the database.",
			"Press n to define one in the builder.")
	default:
		t := tableView{cols: []column{
			{title: "STUDY", min: 12},
			{title: "TABLE", width: 7},
			{title: "VARS", width: 4, right: true},
			{title: "SEEDS", width: 5, right: true},
			{title: "RUNS", width: 9, right: true},
			{title: "PROGRESS", width: 12},
			{title: "STATE", width: 13},
		}, sortCol: -1}
		cell := func(i, c int) string {
			r := s.all[s.shown[i]]
			switch c {
			case 0:
				return r.name
			case 1:
				return r.table
			case 2:
				if r.specPath == "" || r.specErr != nil {
					return "-"
				}
				return fmt.Sprint(r.variants)
			case 3:
				if r.specPath == "" || r.specErr != nil {
					return "-"
				}
				return fmt.Sprint(r.seeds)
			case 4:
				return fmt.Sprintf("%d/%d", r.finished(), r.total())
			case 5:
				if r.total() == 0 {
					return ""
				}
				return bar(float64(r.finished())/float64(r.total()), 12)
			case 6:
				st := r.state()
				return statusStyle(stateStatus(st)).Render(st)
			}
			return ""
		}
		lines = append(lines, t.render(w, s.listH+1, len(s.shown), s.cur, cell, nil))
	}
	body := strings.Join(lines, "\n")
	body = clip(body, w, h-detailH)
	return body + "\n" + clip(s.detail(w), w, detailH)
}

// stateStatus maps a study state to the run status whose colour it takes.
func stateStatus(state string) string {
	switch {
	case state == "done":
		return "finished"
	case strings.HasSuffix(state, "running"):
		return "running"
	case strings.HasSuffix(state, "failed"), state == "invalid spec":
		return "failed"
	}
	return ""
}

// detail describes the selected study under the list.
func (s *studiesScreen) detail(w int) string {
	r, ok := s.selected()
	if !ok {
		return ""
	}
	lines := []string{strings.Repeat("─", w)}
	head := stLabel.Render(r.name)
	if r.title != "" {
		head += " — " + r.title
	}
	lines = append(lines, head)
	switch {
	case r.specErr != nil:
		lines = append(lines, stErr.Render(firstLine(r.specErr.Error())))
	case r.description != "":
		lines = append(lines, r.description)
	}
	var facts []string
	if r.specPath != "" {
		facts = append(facts, "spec "+r.specPath)
	} else {
		facts = append(facts, "no spec file (recorded in the database)")
	}
	if r.profile != "" {
		facts = append(facts, "profile "+r.profile)
	}
	if r.info != nil {
		for _, st := range store.Statuses {
			if n := r.info.Counts[st]; n > 0 {
				facts = append(facts, fmt.Sprintf("%d %s", n, st))
			}
		}
	}
	lines = append(lines, stDim.Render(strings.Join(facts, " · ")))
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
