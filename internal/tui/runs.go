package tui

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mksmt/workbench/internal/filter"
	"github.com/mksmt/workbench/internal/runspec"
	"github.com/mksmt/workbench/internal/store"
)

// runRow is one run as the Runs screen shows it.
type runRow struct {
	run  store.Run
	rec  filter.Record // what the filter language looks at
	s3   float64       // NaN when unknown
	s4   float64
	text [len(runCols)]string // cell texts, computed once per load
	// match are the values the filter sees, in lower case: the cells, with
	// the bare status.
	match [len(runCols)]string
}

// runCols are the Runs table's columns.
var runCols = [...]column{
	{title: "ID", width: 5, right: true},
	{title: "STATUS", width: 11},
	{title: "STUDY", min: 10},
	{title: "VARIANT", min: 10},
	{title: "SEED", width: 4, right: true},
	{title: "HOST", min: 6}, // where it ran or runs: workers on a cluster
	{title: "S3", width: 5, right: true},
	{title: "S4", width: 5, right: true},
	{title: "TIME", width: 7, right: true},
}

// newRunRow fills a row from a run's record (summaries, params, marks,
// studies). A running run shows its latest evaluated accuracies and its
// progress.
func newRunRow(rec filter.Record) *runRow {
	r, sums := rec.Run, rec.Summaries
	row := &runRow{run: r, rec: rec, s3: math.NaN(), s4: math.NaN()}
	src := sums
	if r.Status == store.Running || len(src) == 0 {
		src = r.Progress.Latest
	}
	if v, ok := src[runspec.KeyAccS3]; ok {
		row.s3 = v
	}
	if v, ok := src[runspec.KeyAccS4]; ok {
		row.s4 = v
	}
	status := string(r.Status)
	if r.Status == store.Running && r.Progress.TotalBatches > 0 {
		status = fmt.Sprintf("running %d%%", int(100*r.Progress.Fraction()))
	}
	dur := ""
	if !r.Started.IsZero() {
		dur = fmtDuration(r.Duration())
	}
	row.text = [len(runCols)]string{
		strconv.FormatInt(r.ID, 10), status, r.Study, r.Variant, strconv.FormatInt(r.Seed, 10), r.Host,
		fmtPct(row.s3), fmtPct(row.s4), dur,
	}
	for i, t := range row.text {
		row.match[i] = strings.ToLower(t)
	}
	row.match[1] = string(r.Status)
	return row
}

// runsData is what a load of the Runs screen brings back.
type runsData struct {
	rows  map[int64]*runRow
	live  map[int64]bool // ids that are queued or running
	full  bool           // a full reload (else an update of the rows it holds)
	known *filter.Known  // what a filter may name (full reloads)
	err   error
}

// loadRunsFull reads every run and the summaries of the finished ones.
func loadRunsFull(ctx context.Context, st Store) runsData {
	runs, err := st.Runs(ctx, store.RunFilter{})
	if err != nil {
		return runsData{err: err}
	}
	known, err := knownIn(ctx, st)
	if err != nil {
		return runsData{err: err}
	}
	return fillRuns(ctx, st, runs, runsData{full: true, known: &known})
}

// newestProbe is how many of the newest runs a refresh reads to find runs
// created since the last load (by this process or another one).
const newestProbe = 100

// loadRunsLive refreshes only what can have changed since the last load:
// the runs that are queued or running now, those that were and are not any
// more (they ended), and runs newer than the newest one known. A finished
// run never changes, so a refresh costs what the live runs cost, not what
// 10,000 stored runs would. When more runs than the probe were created
// since, it falls back to a full reload.
func loadRunsLive(ctx context.Context, st Store, wasLive map[int64]bool, newestKnown int64) runsData {
	live, err := st.Live(ctx, store.RunFilter{})
	if err != nil {
		return runsData{err: err}
	}
	newest, err := st.Runs(ctx, store.RunFilter{Newest: true, Limit: newestProbe})
	if err != nil {
		return runsData{err: err}
	}
	if len(newest) == newestProbe && newest[0].ID > newestKnown {
		return loadRunsFull(ctx, st)
	}
	byID := map[int64]store.Run{}
	for _, r := range live {
		byID[r.ID] = r
	}
	for _, r := range newest {
		if r.ID > newestKnown {
			byID[r.ID] = r
		}
	}
	var ended []int64
	for id := range wasLive {
		if _, ok := byID[id]; !ok {
			ended = append(ended, id)
		}
	}
	if len(ended) > 0 {
		sort.Slice(ended, func(i, j int) bool { return ended[i] < ended[j] })
		more, err := st.Runs(ctx, store.RunFilter{IDs: ended})
		if err != nil {
			return runsData{err: err}
		}
		for _, r := range more {
			byID[r.ID] = r
		}
	}
	runs := make([]store.Run, 0, len(byID))
	for _, r := range byID {
		runs = append(runs, r)
	}
	return fillRuns(ctx, st, runs, runsData{})
}

// knownIn is what a filter on st may name (filter.KnownIn, through the
// TUI's Store).
func knownIn(ctx context.Context, st Store) (filter.Known, error) {
	params, err := st.ParamKeys(ctx)
	if err != nil {
		return filter.Known{}, err
	}
	sums, err := st.SummaryKeys(ctx)
	if err != nil {
		return filter.Known{}, err
	}
	union := func(a, b []string) []string {
		out := append(slices.Clone(a), b...)
		slices.Sort(out)
		return slices.Compact(out)
	}
	return filter.Known{Params: union(params, filter.ConfigParams()), Summaries: union(sums, filter.SummaryKeys())}, nil
}

// fillRuns reads what the rows and the filter need: params, summaries,
// marks (archived, note, tags) and study memberships (filter.Load, through
// the TUI's Store).
func fillRuns(ctx context.Context, st Store, runs []store.Run, d runsData) runsData {
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	params, err := st.Params(ctx, ids...)
	if err != nil {
		return runsData{err: err}
	}
	sums, err := st.Summaries(ctx, ids...)
	if err != nil {
		return runsData{err: err}
	}
	marks, err := st.Marks(ctx, ids...)
	if err != nil {
		return runsData{err: err}
	}
	studies, err := st.Memberships(ctx, ids...)
	if err != nil {
		return runsData{err: err}
	}
	d.rows = make(map[int64]*runRow, len(runs))
	d.live = map[int64]bool{}
	for _, r := range runs {
		rec := filter.Record{Run: r, Params: params[r.ID], Summaries: sums[r.ID], Marks: marks[r.ID], Studies: studies[r.ID]}
		if rec.Studies == nil {
			rec.Studies = []store.Membership{}
		}
		d.rows[r.ID] = newRunRow(rec)
		if r.Status == store.Queued || r.Status == store.Running {
			d.live[r.ID] = true
		}
	}
	return d
}

type runsLoaded runsData

// fullEvery is how many refreshes pass between full reloads of the Runs
// screen, a safety net behind the incremental refresh.
const fullEvery = 300

// runsScreen is the table of runs, with filter, sort, selection, details,
// cancel and resume.
type runsScreen struct {
	rows     map[int64]*runRow
	live     map[int64]bool
	all      []*runRow // every row, in id order
	newest   int64     // highest run id loaded
	order    []*runRow // the rows shown: filtered and sorted
	selected map[int64]bool
	cur      cursor
	filter   filterBox
	table    tableView
	loaded   bool
	loading  bool
	sinceAll int
	err      error
	listH    int

	known    filter.Known // what a filter may name, from the last full load
	query    runQuery     // the query applied
	before   runQuery     // the query applied when the filter was opened for editing
	queryErr error        // what is wrong with the query typed (then before stays applied)
	hidden   int          // archived runs the query matched but hides

	detail *runDetail // non-nil while the detail view is open
	diff   *runDiff   // non-nil while the diff of runs is open
}

func newRuns() *runsScreen {
	fb := newFilterBox()
	fb.input.Placeholder = "status:finished acc.S4>60 tag:x … or words"
	return &runsScreen{
		rows: map[int64]*runRow{}, live: map[int64]bool{}, selected: map[int64]bool{},
		filter: fb,
		table:  tableView{cols: runCols[:], sortCol: 0, sortRev: true},
	}
}

func (s *runsScreen) title() string { return "Runs" }

func (s *runsScreen) scopes() []Scope {
	switch {
	case s.detail != nil:
		return []Scope{ScopeDetail}
	case s.diff != nil:
		return []Scope{ScopeDiff}
	case s.filter.editing:
		return []Scope{ScopeFilter}
	}
	return []Scope{ScopeRuns, ScopeList}
}

func (s *runsScreen) typing() bool { return s.detail == nil && s.diff == nil && s.filter.editing }

// leave keeps the filter being typed when the user switches screens.
func (s *runsScreen) leave() { s.filter.handle(actFilterApply) }

func (s *runsScreen) load(m *Model) tea.Cmd {
	var cmds []tea.Cmd
	if s.detail != nil {
		cmds = append(cmds, s.detail.load(m))
	}
	if s.diff != nil {
		cmds = append(cmds, s.diff.load(m))
	}
	if s.loading {
		return tea.Batch(cmds...)
	}
	s.loading = true
	st, ctx := m.be.store, m.ctx
	if !s.loaded || s.sinceAll >= fullEvery {
		s.sinceAll = 0
		cmds = append(cmds, func() tea.Msg { return runsLoaded(loadRunsFull(ctx, st)) })
	} else {
		s.sinceAll++
		was := make(map[int64]bool, len(s.live))
		for id := range s.live {
			was[id] = true
		}
		newest := s.newest
		cmds = append(cmds, func() tea.Msg { return runsLoaded(loadRunsLive(ctx, st, was, newest)) })
	}
	return tea.Batch(cmds...)
}

func (s *runsScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case runsLoaded:
		s.loading = false
		s.err = msg.err
		if msg.err != nil {
			return nil
		}
		s.apply(runsData(msg))
	case detailLoaded:
		if s.detail != nil && s.detail.id == msg.id {
			s.detail.set(msg)
		}
	case runsChangedMsg:
		// Marks or rows changed: the next load reads every run again.
		s.sinceAll = fullEvery
		s.selected = map[int64]bool{}
		if s.detail != nil && slices.Contains(msg.removed, s.detail.id) {
			s.detail = nil
		}
		if s.diff != nil && slices.ContainsFunc(s.diff.ids, func(id int64) bool { return slices.Contains(msg.removed, id) }) {
			s.diff = nil
		}
		return s.load(m)
	case diffLoaded:
		if s.diff != nil && slices.Equal(s.diff.ids, msg.ids) {
			s.diff.set(msg)
		}
	case tea.KeyMsg:
		if s.filter.editing {
			return s.filter.update(msg, s.resort)
		}
	}
	return nil
}

// apply merges a load into the table.
func (s *runsScreen) apply(d runsData) {
	if d.full {
		s.rows = d.rows
		s.all = s.all[:0]
		for _, r := range s.rows {
			s.all = append(s.all, r)
		}
		slices.SortFunc(s.all, func(a, b *runRow) int { return cmp.Compare(a.run.ID, b.run.ID) })
		for id := range s.selected {
			if _, ok := s.rows[id]; !ok {
				delete(s.selected, id)
			}
		}
	} else {
		var added []*runRow
		for id, r := range d.rows {
			if _, ok := s.rows[id]; !ok {
				added = append(added, r)
			}
			s.rows[id] = r
		}
		// Replace changed rows in place; insert new ones in id order.
		for i, r := range s.all {
			s.all[i] = s.rows[r.run.ID]
		}
		if len(added) > 0 {
			s.all = append(s.all, added...)
			slices.SortFunc(s.all, func(a, b *runRow) int { return cmp.Compare(a.run.ID, b.run.ID) })
		}
	}
	s.live = d.live
	if d.known != nil {
		s.known = *d.known
	}
	if n := len(s.all); n > 0 {
		s.newest = s.all[n-1].run.ID
	}
	s.loaded = true
	s.resort()
}

// resort filters and sorts the rows, keeping the cursor on the same run.
func (s *runsScreen) resort() {
	var keep int64 = -1
	if s.cur.pos < len(s.order) {
		keep = s.order[s.cur.pos].run.ID
	}
	if q, err := parseRunQuery(s.filter.query(), s.known); err != nil {
		s.query, s.queryErr = s.before, err
	} else {
		s.query, s.queryErr = q, nil
	}
	s.order = s.order[:0]
	s.hidden = 0
	for _, r := range s.all { // in id order
		if !s.query.match(r) {
			continue
		}
		if r.rec.Marks.IsArchived() && !s.query.archivedShown() {
			s.hidden++
			continue
		}
		s.order = append(s.order, r)
	}
	col, rev := s.table.sortCol, s.table.sortRev
	if col != 0 {
		// Stable: rows that tie stay in id order.
		slices.SortStableFunc(s.order, func(a, b *runRow) int { return compareRuns(a, b, col) })
	}
	if rev {
		slices.Reverse(s.order)
	}
	s.cur.pos = 0
	for i, r := range s.order {
		if r.run.ID == keep {
			s.cur.pos = i
			break
		}
	}
	s.cur.scroll(len(s.order), s.listH)
}

// compareRuns orders two rows by a column; missing numbers sort last.
func compareRuns(a, b *runRow, col int) int {
	switch col {
	case 0:
		return cmp.Compare(a.run.ID, b.run.ID)
	case 1:
		return cmp.Compare(statusRank(a.run.Status), statusRank(b.run.Status))
	case 2:
		return cmp.Compare(a.run.Study, b.run.Study)
	case 3:
		return cmp.Compare(a.run.Variant, b.run.Variant)
	case 4:
		return cmp.Compare(a.run.Seed, b.run.Seed)
	case 5:
		return cmp.Compare(a.run.Host, b.run.Host)
	case 6:
		return cmpNaN(a.s3, b.s3)
	case 7:
		return cmpNaN(a.s4, b.s4)
	case 8:
		return cmp.Compare(a.run.Duration(), b.run.Duration())
	}
	return 0
}

func cmpNaN(a, b float64) int {
	switch an, bn := math.IsNaN(a), math.IsNaN(b); {
	case an && bn:
		return 0
	case an:
		return -1
	case bn:
		return 1
	}
	return cmp.Compare(a, b)
}

func statusRank(s store.Status) int {
	for i, x := range store.Statuses {
		if x == s {
			return i
		}
	}
	return len(store.Statuses)
}

// targets are the runs an action applies to: the selected ones, else the
// one under the cursor.
func (s *runsScreen) targets() []*runRow {
	var out []*runRow
	for _, r := range s.order {
		if s.selected[r.run.ID] {
			out = append(out, r)
		}
	}
	if len(out) == 0 && s.cur.pos < len(s.order) {
		out = append(out, s.order[s.cur.pos])
	}
	return out
}

func (s *runsScreen) handle(m *Model, a Action) (tea.Cmd, bool) {
	if s.detail != nil {
		switch a {
		case actBack:
			s.detail = nil
			return nil, true
		case actUp, actDown:
			s.detail.scroll(a)
			return nil, true
		case actCancelRun:
			return m.cancelOrArchive([]store.Run{s.detail.run}, []bool{s.detail.archived()}), true
		case actRemoveRun:
			return m.removeRuns([]store.Run{s.detail.run}), true
		case actTagRun:
			return m.tagRuns([]store.Run{s.detail.run}), true
		case actNoteRun:
			note := ""
			if s.detail.data != nil {
				note = s.detail.data.marks.Note
			}
			return m.noteRun(s.detail.run, note), true
		case actResumeRun:
			return m.resumeRuns([]store.Run{s.detail.run}), true
		case actWatchRun:
			return m.openLive(s.detail.id), true
		}
		return nil, false
	}
	if s.diff != nil {
		switch a {
		case actBack:
			s.diff = nil
			return nil, true
		case actUp, actDown:
			s.diff.scroll(a)
			return nil, true
		case actShowAll:
			s.diff.all = !s.diff.all
			return nil, true
		}
		return nil, false
	}
	if a == actFilter && !s.filter.editing && s.queryErr == nil {
		s.before = s.query
	}
	if cmd, ok := s.filter.handleList(a, s.resort); ok {
		return cmd, true
	}
	if s.cur.handleNav(a, len(s.order), s.listH) {
		return nil, true
	}
	switch a {
	case actBack:
		if len(s.selected) > 0 {
			s.selected = map[int64]bool{}
			return nil, true
		}
	case actSortNext:
		s.table.sortCol = (s.table.sortCol + 1) % len(runCols)
		s.resort()
		return nil, true
	case actSortReverse:
		s.table.sortRev = !s.table.sortRev
		s.resort()
		return nil, true
	case actSelect:
		if s.cur.pos < len(s.order) {
			id := s.order[s.cur.pos].run.ID
			if s.selected[id] {
				delete(s.selected, id)
			} else {
				s.selected[id] = true
			}
			s.cur.move(1, len(s.order), s.listH)
		}
		return nil, true
	case actSelectAll:
		if len(s.selected) > 0 {
			s.selected = map[int64]bool{}
		} else {
			for _, r := range s.order {
				s.selected[r.run.ID] = true
			}
		}
		return nil, true
	case actOpenRun:
		if s.cur.pos < len(s.order) {
			return s.open(m, s.order[s.cur.pos].run.ID), true
		}
		return nil, true
	case actWatchRun:
		if s.cur.pos < len(s.order) {
			return m.openLive(s.order[s.cur.pos].run.ID), true
		}
		return nil, true
	case actDiffRuns:
		var ids []int64
		for _, r := range s.all { // in id order
			if s.selected[r.run.ID] {
				ids = append(ids, r.run.ID)
			}
		}
		if len(ids) < 2 {
			m.setStatus("select two or more runs with space, then d diffs them", nil)
			return nil, true
		}
		s.diff = &runDiff{ids: ids}
		return s.diff.load(m), true
	case actTagRun:
		var runs []store.Run
		for _, r := range s.targets() {
			runs = append(runs, r.run)
		}
		return m.tagRuns(runs), true
	case actNoteRun:
		if s.cur.pos < len(s.order) {
			r := s.order[s.cur.pos]
			return m.noteRun(r.run, r.rec.Marks.Note), true
		}
		return nil, true
	case actCancelRun, actResumeRun, actRemoveRun:
		var runs []store.Run
		var archived []bool
		for _, r := range s.targets() {
			runs = append(runs, r.run)
			archived = append(archived, r.rec.Marks.IsArchived())
		}
		switch a {
		case actCancelRun:
			return m.cancelOrArchive(runs, archived), true
		case actRemoveRun:
			return m.removeRuns(runs), true
		}
		return m.resumeRuns(runs), true
	}
	return nil, false
}

// open shows the detail view of a run.
func (s *runsScreen) open(m *Model, id int64) tea.Cmd {
	s.detail = &runDetail{id: id}
	return s.detail.load(m)
}

func (s *runsScreen) view(m *Model, w, h int) string {
	if s.detail != nil {
		return s.detail.view(w, h)
	}
	if s.diff != nil {
		return s.diff.view(w, h)
	}
	var lines []string
	if fl := s.filter.view(w); fl != "" {
		lines = append(lines, fl)
	}
	if s.queryErr != nil {
		lines = append(lines, stErr.Render("✗ filter: "+s.queryErr.Error()))
	}
	info := fmt.Sprintf("%d runs", len(s.rows))
	if len(s.order) != len(s.rows) {
		info = fmt.Sprintf("%d of %d runs", len(s.order), len(s.rows))
	}
	if s.hidden > 0 {
		info += fmt.Sprintf(" · %d archived hidden (archived:true shows them)", s.hidden)
	}
	if len(s.selected) > 0 {
		info += fmt.Sprintf(" · %d selected", len(s.selected))
	}
	info += " · sorted by " + strings.ToLower(runCols[s.table.sortCol].title)
	if s.table.sortRev {
		info += " (descending)"
	}
	if s.err != nil {
		info += " · " + stErr.Render("refresh failed: "+s.err.Error())
	}
	lines = append(lines, stDim.Render(info))
	s.listH = max(h-len(lines)-1, 1)
	switch {
	case !s.loaded && s.err == nil:
		lines = append(lines, "loading runs…")
	case len(s.rows) == 0 && s.loaded:
		lines = append(lines, "No runs yet. Start a study from 1 Studies (r) or 2 Builder (ctrl+r).")
	default:
		cell := func(i, c int) string {
			r := s.order[i]
			if c == 1 {
				return statusStyle(string(r.run.Status)).Render(r.text[c])
			}
			return r.text[c]
		}
		marked := func(i int) bool { return s.selected[s.order[i].run.ID] }
		s.cur.scroll(len(s.order), s.listH)
		lines = append(lines, s.table.render(w, s.listH+1, len(s.order), s.cur, cell, marked))
	}
	return clip(strings.Join(lines, "\n"), w, h)
}
