package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	bcursor "github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
)

// screen is one of the five screens (one file each). A screen reads data
// through the Model's backend, renders itself into the body area and
// handles the actions of its scopes.
type screen interface {
	// title is the name in the tab bar.
	title() string
	// scopes are the keymap scopes active on the screen, innermost first
	// (the global scope is added by the Model).
	scopes() []Scope
	// typing reports whether a text input has the focus.
	typing() bool
	// handle performs a bound action. handled=false lets the Model apply
	// its own meaning (the global scope's).
	handle(m *Model, a Action) (cmd tea.Cmd, handled bool)
	// update receives every other message: data loads, and keys that no
	// binding took while typing.
	update(m *Model, msg tea.Msg) tea.Cmd
	// load starts a refresh of the screen's data.
	load(m *Model) tea.Cmd
	// view renders the body, exactly w×h cells.
	view(m *Model, w, h int) string
}

// Screen indexes, in tab order.
const (
	screenStudies = iota
	screenBuilder
	screenRuns
	screenLive
	screenCompare
	numScreens
)

// QuitChoice is what the user chose when quitting with active runs.
type QuitChoice int

const (
	QuitNoActiveRuns QuitChoice = iota // nothing was running
	QuitStopRuns                       // stop them: they checkpoint and can be resumed
	QuitLeaveRuns                      // leave them running
)

func (q QuitChoice) String() string {
	switch q {
	case QuitStopRuns:
		return "stop"
	case QuitLeaveRuns:
		return "leave"
	}
	return "none"
}

// tickMsg drives the periodic refresh.
type tickMsg struct{}

// statusMsg sets the status line (an error when err is set).
type statusMsg struct {
	text string
	err  error
}

// inspectMsg runs a function on the model inside Update, on the program's
// goroutine: tests read the model's state this way without racing it.
type inspectMsg func(*Model)

// activeMsg carries the number of runs the runner has in flight.
type activeMsg int

// Model is the root bubbletea model: the tab bar, the active screen, the
// status and key lines, and the overlays (help, confirmation, quit).
type Model struct {
	be      *backend
	ctx     context.Context
	refresh time.Duration
	changes <-chan struct{} // announced changes (nil: poll)

	width, height int
	active        int
	screens       [numScreens]screen

	help    *helpView
	confirm *confirmDialog
	prompt  *promptDialog
	quitAsk bool
	quit    QuitChoice
	running int // runs the runner has in flight (queued or running)

	status    string
	statusErr bool
	lastErr   string // the last error, in full
	errPopup  bool   // the last error is shown in full (!)
}

// promptDialog asks for a line of text (a note, tags); onDone runs with
// it on enter, esc cancels. While it is open every other key is typed.
type promptDialog struct {
	label  string
	input  textinput.Model
	onDone func(text string) tea.Cmd
}

// confirmDialog is a yes/no question; onYes runs when the user says yes.
type confirmDialog struct {
	prompt string
	onYes  func() tea.Cmd
}

// New builds the TUI model over a backend made from opts.
func New(ctx context.Context, opts Options) (*Model, error) {
	be, err := newBackend(opts)
	if err != nil {
		return nil, err
	}
	m := &Model{be: be, ctx: ctx, refresh: opts.Refresh, changes: opts.Changes, width: minWidth, height: minHeight}
	if m.refresh <= 0 {
		m.refresh = time.Second
		if m.changes != nil {
			m.refresh = 5 * time.Second
		}
	}
	m.screens = [numScreens]screen{
		newStudies(), newBuilder(be), newRuns(), newLive(), newCompare(),
	}
	m.active = opts.Start
	if m.active < 0 || m.active >= numScreens {
		m.active = screenStudies
	}
	return m, nil
}

// Quit reports what the user chose about active runs when quitting.
func (m *Model) Quit() QuitChoice { return m.quit }

// Active is the index of the active screen (0 Studies … 4 Compare).
func (m *Model) Active() int { return m.active }

// Init starts the first load and the refresh ticker.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(m.screens[m.active].load(m), m.tick(), m.loadActive(), m.waitChange())
}

// changeMsg says runs changed somewhere; changesLostMsg that the TUI no
// longer hears of changes.
type (
	changeMsg      struct{}
	changesLostMsg struct{}
)

// waitChange waits for the next announced change.
func (m *Model) waitChange() tea.Cmd {
	ch := m.changes
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		if _, ok := <-ch; !ok {
			return changesLostMsg{}
		}
		return changeMsg{}
	}
}

func (m *Model) tick() tea.Cmd {
	return tea.Tick(m.refresh, func(time.Time) tea.Msg { return tickMsg{} })
}

func (m *Model) loadActive() tea.Cmd {
	if m.be.runner == nil {
		return nil
	}
	r := m.be.runner
	return func() tea.Msg { return activeMsg(r.Active()) }
}

// Update is the one place where messages are dispatched: keys through the
// keymap, everything else to the screens.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, m.screens[m.active].update(m, msg)
	case tickMsg:
		return m, tea.Batch(m.screens[m.active].load(m), m.loadActive(), m.tick())
	case changeMsg:
		return m, tea.Batch(m.screens[m.active].load(m), m.waitChange())
	case changesLostMsg:
		m.changes, m.refresh = nil, time.Second
		m.setStatus("", errors.New("lost the database's change notices: refreshing every second"))
		return m, nil
	case inspectMsg:
		msg(m)
		return m, nil
	case activeMsg:
		m.running = int(msg)
		return m, nil
	case statusMsg:
		m.setStatus(msg.text, msg.err)
		return m, nil
	case tea.KeyMsg:
		return m, m.key(msg)
	}
	var cmds []tea.Cmd
	for _, s := range m.screens {
		cmds = append(cmds, s.update(m, msg))
	}
	return m, tea.Batch(cmds...)
}

// key dispatches a key press through the keymap. Overlays take the keys
// first: the quit question, a confirmation, the help.
func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	switch {
	case m.quitAsk:
		a, _ := lookup(msg, []Scope{ScopeQuit}, false)
		switch a {
		case actQuitStop:
			m.quit = QuitStopRuns
			return tea.Quit
		case actQuitLeave:
			m.quit = QuitLeaveRuns
			return tea.Quit
		case actNo:
			m.quitAsk = false
		}
		return nil
	case m.confirm != nil:
		a, _ := lookup(msg, []Scope{ScopeConfirm}, false)
		switch a {
		case actYes:
			c := m.confirm
			m.confirm = nil
			return c.onYes()
		case actNo:
			m.confirm = nil
			m.setStatus("cancelled", nil)
		}
		return nil
	case m.errPopup:
		if a, ok := lookup(msg, []Scope{ScopeGlobal}, false); ok && (a == actBack || a == actShowError || a == actForceQuit) {
			m.errPopup = false
			if a == actForceQuit {
				return m.askQuit()
			}
		}
		return nil
	case m.prompt != nil:
		a, ok := lookup(msg, []Scope{ScopePrompt, ScopeGlobal}, true)
		switch {
		case ok && a == actForceQuit:
			m.prompt = nil
			return m.askQuit()
		case !ok:
			var cmd tea.Cmd
			m.prompt.input, cmd = m.prompt.input.Update(msg)
			return cmd
		case a == actPromptApply:
			p := m.prompt
			m.prompt = nil
			return p.onDone(p.input.Value())
		case a == actPromptCancel:
			m.prompt = nil
			m.setStatus("cancelled", nil)
		}
		return nil
	case m.help != nil:
		a, ok := lookup(msg, []Scope{ScopeHelp, ScopeGlobal}, false)
		if !ok {
			return nil
		}
		switch a {
		case actBack, actHelp:
			m.help = nil
			return nil
		case actUp, actDown:
			m.help.handle(a, strings.Count(helpText(m.width), "\n")+1, m.bodyHeight())
			return nil
		}
		m.help = nil // any other global key closes the help and acts
		return m.global(a)
	}
	s := m.screens[m.active]
	isTyping := s.typing()
	scopes := append(append([]Scope{}, s.scopes()...), ScopeGlobal)
	a, ok := lookup(msg, scopes, isTyping)
	if !ok {
		if isTyping {
			return s.update(m, msg)
		}
		return nil
	}
	if cmd, handled := s.handle(m, a); handled {
		return cmd
	}
	return m.global(a)
}

// global performs the actions of the global scope.
func (m *Model) global(a Action) tea.Cmd {
	switch a {
	case actQuit, actForceQuit:
		return m.askQuit()
	case actHelp:
		m.help = &helpView{}
	case actShowError:
		if m.lastErr == "" {
			m.setStatus("no error to show", nil)
			return nil
		}
		m.errPopup = true
	case actBack:
		// Nothing left to close: esc never walks back through screens, so
		// pressing it one time too many is harmless.
	case actNextScreen:
		return m.switchTo((m.active + 1) % numScreens)
	case actPrevScreen:
		return m.switchTo((m.active + numScreens - 1) % numScreens)
	case actScreenStudies, actScreenBuilder, actScreenRuns, actScreenLive, actScreenCompare:
		return m.switchTo(int(a - actScreenStudies))
	}
	return nil
}

// askQuit quits, or asks first when the runner has runs in flight.
func (m *Model) askQuit() tea.Cmd {
	if m.be.runner != nil {
		m.running = m.be.runner.Active()
	}
	if m.running > 0 {
		m.quitAsk = true
		return nil
	}
	m.quit = QuitNoActiveRuns
	return tea.Quit
}

// leaver is a screen with a text input that stops editing when the user
// leaves the screen: coming back, the global keys work again.
type leaver interface{ leave() }

// switchTo shows screen i.
func (m *Model) switchTo(i int) tea.Cmd {
	if i == m.active {
		return nil
	}
	if l, ok := m.screens[m.active].(leaver); ok {
		l.leave()
	}
	m.active = i
	return m.screens[i].load(m)
}

// askText opens a prompt for a line of text, starting with value.
func (m *Model) askText(label, value string, onDone func(text string) tea.Cmd) tea.Cmd {
	ti := textinput.New()
	ti.Prompt = "> "
	ti.CharLimit = 4096
	ti.Cursor.SetMode(bcursor.CursorStatic)
	ti.SetValue(value)
	ti.Width = max(min(m.width-10, 70), 10)
	m.prompt = &promptDialog{label: label, input: ti, onDone: onDone}
	return m.prompt.input.Focus()
}

// ask opens a yes/no confirmation.
func (m *Model) ask(prompt string, onYes func() tea.Cmd) {
	m.confirm = &confirmDialog{prompt: prompt, onYes: onYes}
}

func (m *Model) setStatus(text string, err error) {
	if err != nil {
		m.status, m.statusErr = err.Error(), true
		m.lastErr = err.Error()
		return
	}
	m.status, m.statusErr = text, false
}

// bodyHeight is the height left to a screen.
func (m *Model) bodyHeight() int { return max(m.height-chrome, 1) }

// View renders the whole terminal: tab bar, body, status line, key line.
func (m *Model) View() string {
	w, bh := m.width, m.bodyHeight()
	var body string
	switch {
	case m.help != nil:
		body = m.help.view(w, bh)
	default:
		body = m.screens[m.active].view(m, w, bh)
	}
	if m.confirm != nil || m.quitAsk || m.prompt != nil || m.errPopup {
		body = m.overlay(body, w, bh)
	}
	return strings.Join([]string{m.tabs(w), clip(body, w, bh), m.statusLine(w), m.keyLine(w)}, "\n")
}

// overlay draws the open question in a box in the middle of the body.
func (m *Model) overlay(body string, w, h int) string {
	var text string
	switch {
	case m.errPopup:
		text = stErr.Render("error") + "\n\n" + m.lastErr + "\n\n[esc] close"
		return centre(stBox.Width(max(min(w-4, 76), 10)).Render(text), w, h)
	case m.prompt != nil:
		text = m.prompt.label + "\n\n" + m.prompt.input.View() + "\n\n[enter] done   [esc] cancel"
	case m.quitAsk:
		text = fmt.Sprintf("%d run(s) are still active.\n\n", m.running) +
			"[s] stop them (they checkpoint; `workbench resume` continues them)\n" +
			"[l] leave them running\n" +
			"[esc] do not quit"
	default:
		text = m.confirm.prompt + "\n\n[y] yes   [n] no"
	}
	box := stBox.Render(text)
	bw := lipgloss.Width(box)
	if bw > w {
		box = stBox.Width(w - 4).Render(text)
	}
	return centre(box, w, h)
}

// tabs renders the tab bar: the screens with their number keys, the
// database and the number of active runs.
func (m *Model) tabs(w int) string {
	var parts []string
	for i, s := range m.screens {
		label := fmt.Sprintf("%d %s", i+1, s.title())
		if i == m.active {
			parts = append(parts, stTabActive.Render("["+label+"]"))
		} else {
			parts = append(parts, stTab.Render(" "+label+" "))
		}
	}
	left := strings.Join(parts, "")
	right := m.be.dbName()
	if m.running > 0 {
		right = fmt.Sprintf("%d active · %s", m.running, right)
	}
	gap := w - lipgloss.Width(left) - lipgloss.Width(right) - 1
	if gap < 1 {
		return fit(left, w)
	}
	return left + strings.Repeat(" ", gap) + stDim.Render(right) + " "
}

func (m *Model) statusLine(w int) string {
	if m.status == "" {
		return fit("", w)
	}
	if m.statusErr {
		line := "error: " + m.status
		if lipgloss.Width(line) > w {
			// Cut: ! shows it whole.
			const more = " (! shows all)"
			return fit(stErr.Render(fit(line, max(w-len(more), 1))+more), w)
		}
		return fit(stErr.Render(line), w)
	}
	return fit(m.status, w)
}

// keyLine shows the keys of the current context: the screen's own, the
// filter on lists, then help and quit. The full list is behind ?.
func (m *Model) keyLine(w int) string {
	var scopes []Scope
	switch {
	case m.quitAsk:
		scopes = []Scope{ScopeQuit}
	case m.confirm != nil:
		scopes = []Scope{ScopeConfirm}
	case m.prompt != nil:
		scopes = []Scope{ScopePrompt}
	case m.help != nil:
		scopes = []Scope{ScopeHelp}
	default:
		scopes = m.screens[m.active].scopes()
	}
	var hs []key.Help
	for _, s := range scopes {
		if s != ScopeList {
			hs = append(hs, shortHelp(s)...)
		}
	}
	if m.help == nil && m.confirm == nil && m.prompt == nil && !m.quitAsk {
		hs = append([]key.Help{keyHelp(ScopeGlobal, actHelp)}, hs...)
		hs = append(hs, keyHelp(ScopeGlobal, actQuit))
	}
	return fit(helpLine(hs, w), w)
}
