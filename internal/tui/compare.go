package tui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/mksmt/workbench/internal/report"
)

type compareStudies struct {
	names []string
	err   error
}

type compareLoaded struct {
	study string
	table *report.Table
	err   error
}

type exportDone struct {
	study string
	files []string
	err   error
}

// compareScreen shows the paper-style table of one study, as `workbench
// table` prints it (fitted to the screen's width), and exports it. With
// runs of another profile only, it shows those and says so first, as
// `workbench table` does.
type compareScreen struct {
	names   []string
	study   string // chosen study ("" = the first)
	table   *report.Table
	text    string // table rendered at textW columns
	textW   int
	textFor string
	err     error
	top     int // first line shown
	left    int // first column shown
	height  int
	lines   int
	width   int
}

func newCompare() *compareScreen { return &compareScreen{} }

func (s *compareScreen) title() string { return "Compare" }

func (s *compareScreen) scopes() []Scope { return []Scope{ScopeCompare, ScopeList} }

func (s *compareScreen) typing() bool { return false }

// choose selects the study to show.
func (s *compareScreen) choose(study string) {
	if study != s.study {
		s.study, s.top, s.left = study, 0, 0
	}
}

func (s *compareScreen) load(m *Model) tea.Cmd {
	be, ctx := m.be, m.ctx
	cmds := []tea.Cmd{func() tea.Msg {
		names, err := be.studyNames(ctx)
		return compareStudies{names: names, err: err}
	}}
	if study := s.current(); study != "" {
		cmds = append(cmds, func() tea.Msg {
			t, _, err := be.studyTable(ctx, study, false)
			return compareLoaded{study: study, table: t, err: err}
		})
	}
	return tea.Batch(cmds...)
}

// current is the study shown: the chosen one, else the first known.
func (s *compareScreen) current() string {
	if s.study != "" {
		return s.study
	}
	if len(s.names) > 0 {
		return s.names[0]
	}
	return ""
}

func (s *compareScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case compareStudies:
		first := len(s.names) == 0
		if msg.err == nil {
			s.names = msg.names
		} else {
			s.err = msg.err
		}
		if first && s.study == "" && len(s.names) > 0 && m.active == screenCompare {
			return s.load(m)
		}
	case compareLoaded:
		if msg.study != s.current() {
			return nil
		}
		s.table, s.err, s.textFor = msg.table, msg.err, msg.study
		s.text, s.textW = "", 0
	case exportDone:
		if msg.err != nil {
			m.setStatus("", fmt.Errorf("export %s: %w", msg.study, msg.err))
		} else {
			m.setStatus(fmt.Sprintf("exported %s: %s", msg.study, strings.Join(msg.files, ", ")), nil)
		}
	}
	return nil
}

func (s *compareScreen) step(m *Model, d int) tea.Cmd {
	if len(s.names) == 0 {
		return nil
	}
	i := 0
	for j, n := range s.names {
		if n == s.current() {
			i = j
		}
	}
	i = (i + d + len(s.names)) % len(s.names)
	s.choose(s.names[i])
	return s.load(m)
}

func (s *compareScreen) handle(m *Model, a Action) (tea.Cmd, bool) {
	page := max(s.height-1, 1)
	switch a {
	case actPrevStudy:
		return s.step(m, -1), true
	case actNextStudy:
		return s.step(m, 1), true
	case actUp:
		s.top--
	case actDown:
		s.top++
	case actPageUp:
		s.top -= page
	case actPageDown:
		s.top += page
	case actTop:
		s.top = 0
	case actBottom:
		s.top = s.lines
	case actScrollLeft:
		s.left = max(s.left-8, 0)
	case actScrollRight:
		s.left += 8
	case actExport:
		study := s.current()
		if study == "" {
			m.setStatus("no study to export", nil)
			return nil, true
		}
		be, ctx := m.be, m.ctx
		m.setStatus("exporting "+study+"…", nil)
		return func() tea.Msg {
			files, err := be.export(ctx, study)
			return exportDone{study: study, files: files, err: err}
		}, true
	default:
		return nil, false
	}
	s.clampScroll()
	return nil, true
}

func (s *compareScreen) clampScroll() {
	if s.top > s.lines-s.height {
		s.top = s.lines - s.height
	}
	if s.top < 0 {
		s.top = 0
	}
	if s.left > s.width-10 {
		s.left = max(s.width-10, 0)
	}
}

func (s *compareScreen) view(m *Model, w, h int) string {
	study := s.current()
	var head string
	if study == "" {
		head = "No studies yet. Define one on 2 Builder, or run one from 1 Studies."
		return clip(head, w, h)
	}
	pos := ""
	for i, n := range s.names {
		if n == study {
			pos = fmt.Sprintf(" (%d of %d)", i+1, len(s.names))
		}
	}
	prof := ""
	if s.table != nil && s.textFor == study && s.table.Profile != "" {
		prof = " · profile " + s.table.Profile
	}
	head = stLabel.Render("Study "+study) + stDim.Render(pos+prof+" · [ ] other study · e export to "+m.be.plotDir+"/")
	lines := []string{fit(head, w)}
	body := h - 1
	switch {
	case s.err != nil && s.textFor == study:
		for _, l := range report.WrapText(s.err.Error(), w) {
			lines = append(lines, stErr.Render(l))
		}
	case s.textFor != study || s.table == nil:
		lines = append(lines, "loading the table…")
	default:
		if s.textW != w || s.text == "" {
			s.text, s.textW = compareText(s.table, w), w
		}
		text := strings.Split(strings.TrimRight(s.text, "\n"), "\n")
		s.lines, s.height = len(text), body
		s.width = 0
		for _, l := range text {
			s.width = max(s.width, ansi.StringWidth(l))
		}
		s.clampScroll()
		end := min(s.top+body, len(text))
		for _, l := range text[s.top:end] {
			if s.left > 0 {
				l = ansi.Cut(l, s.left, s.left+w)
			}
			lines = append(lines, l)
		}
	}
	return clip(strings.Join(lines, "\n"), w, h)
}

// compareText is the study's table for a screen w columns wide: what the
// table says before its cells (the profile picked, why it is empty), then
// the verdicts, then the table as `workbench table` prints it, fitted to w.
// Lines wrap at words; none is cut mid-word.
func compareText(t *report.Table, w int) string {
	var b strings.Builder
	for _, h := range t.Headline {
		for _, l := range report.WrapText(h, w) {
			b.WriteString(stWarn.Render(l) + "\n")
		}
	}
	for _, line := range strings.Split(strings.TrimRight(claimsSummary(t), "\n"), "\n") {
		if line == "" {
			continue
		}
		for _, l := range report.WrapText(line, w) {
			b.WriteString(l + "\n")
		}
	}
	shown := *t
	shown.Headline = nil // said above
	if err := report.RenderWidth(&b, report.Term, lipgloss.DefaultRenderer(), w, &shown); err != nil {
		b.WriteString(stErr.Render("table of "+t.Study+": "+err.Error()) + "\n")
	}
	return b.String()
}
