package tui

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// driver drives a Model synchronously, without a program: a key press goes
// through Update and every command it returns runs at once, its messages
// fed back (loads included), so the model is settled when press returns.
// The refresh ticker is never started.
type driver struct {
	t    *testing.T
	m    *Model
	quit bool
}

func newDriver(t *testing.T, f *fixture, r Runner, screen int) *driver {
	t.Helper()
	m, err := New(context.Background(), Options{Store: f.st, Runner: r, SpecDir: "experiments", PlotDir: "plots", Start: screen})
	if err != nil {
		t.Fatal(err)
	}
	m.width, m.height = 80, 24
	d := &driver{t: t, m: m}
	d.run(m.screens[m.active].load(m))
	return d
}

var cmdType = reflect.TypeOf((*tea.Cmd)(nil)).Elem()

// run executes a command and dispatches what it returns, recursively:
// batches and sequences run each of their commands.
func (d *driver) run(cmd tea.Cmd) {
	d.t.Helper()
	if cmd == nil {
		return
	}
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	var msg tea.Msg
	select {
	case msg = <-ch:
	case <-time.After(10 * time.Second):
		d.t.Fatal("a command did not return within 10 s")
	}
	if msg == nil {
		return
	}
	if _, ok := msg.(tea.QuitMsg); ok {
		d.quit = true
		return
	}
	// tea.Batch and tea.Sequence (whose message type is unexported) are
	// slices of commands.
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		for i := 0; i < v.Len(); i++ {
			c, _ := v.Index(i).Interface().(tea.Cmd)
			d.run(c)
		}
		return
	}
	_, next := d.m.Update(msg)
	d.run(next)
}

// press sends keys by name (as in namedKeys) or as typed runes, one key
// press per rune.
func (d *driver) press(keys ...string) {
	d.t.Helper()
	for _, k := range keys {
		if msg, ok := namedKeys[k]; ok {
			d.send(msg)
			continue
		}
		for _, r := range k {
			d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		}
	}
}

func (d *driver) send(msg tea.KeyMsg) {
	d.t.Helper()
	if d.quit {
		d.t.Fatalf("key %q after the TUI quit", msg.String())
	}
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

// typing reports whether keys are typed into a text input: a prompt, or
// the active screen's field or filter.
func (d *driver) typing() bool { return d.m.prompt != nil || d.m.screens[d.m.active].typing() }

// promptText is the text of the open prompt ("" when none is open).
func promptText(d *driver) string {
	if d.m.prompt == nil {
		return ""
	}
	return d.m.prompt.input.Value()
}

func (d *driver) builder() *builderScreen { return d.m.screens[screenBuilder].(*builderScreen) }

// focusState is a screen in one state of focus: setup brings a fresh
// driver there; input, for the states where a text input has the focus,
// reads that input's text.
type focusState struct {
	name   string
	screen int
	from   int // the screen the driver starts on, when not screen+1 (1-based)
	setup  func(d *driver)
	input  func(d *driver) string
	// leave is what esc does to the input: "kept" (the builder keeps the
	// text, stops editing) or "cleared" (a filter).
	leave string
}

// focusStates lists every screen in every state of focus: the plain
// screens, the builder with each field focused and with each text field
// being edited, the lists' filters being typed, the run detail, a
// selection, and the help open over each screen.
func focusStates(t *testing.T, f *fixture) []focusState {
	states := []focusState{
		{name: "studies", screen: screenStudies},
		{name: "studies/filter", screen: screenStudies, setup: func(d *driver) { d.press("/") },
			input: func(d *driver) string { return d.m.screens[screenStudies].(*studiesScreen).filter.input.Value() }, leave: "cleared"},
		{name: "runs", screen: screenRuns},
		{name: "runs/filter", screen: screenRuns, setup: func(d *driver) { d.press("/") },
			input: func(d *driver) string { return d.m.screens[screenRuns].(*runsScreen).filter.input.Value() }, leave: "cleared"},
		{name: "runs/selection", screen: screenRuns, setup: func(d *driver) { d.press("space", "space") }},
		{name: "runs/tag-prompt", screen: screenRuns, setup: func(d *driver) { d.press("space", "space", "t") },
			input: promptText, leave: "cleared"},
		{name: "runs/note-prompt", screen: screenRuns, setup: func(d *driver) { d.press("enter", "n") },
			input: promptText, leave: "cleared"},
		{name: "runs/detail", screen: screenRuns, setup: func(d *driver) { d.press("enter") }},
		{name: "runs/diff", screen: screenRuns, setup: func(d *driver) {
			d.press("space", "space", "d")
			if d.m.screens[screenRuns].(*runsScreen).diff == nil {
				d.t.Fatal("no diff open")
			}
		}},
		{name: "live", screen: screenLive},
		{name: "live/pinned", screen: screenLive, from: screenRuns + 1, setup: func(d *driver) {
			d.press("G", "w")
			if l := d.m.screens[screenLive].(*liveScreen); l.pinned == 0 || d.m.active != screenLive {
				d.t.Fatal("no run pinned on Live")
			}
		}},
		{name: "compare", screen: screenCompare},
	}
	for scr := 0; scr < numScreens; scr++ {
		states = append(states, focusState{name: fmt.Sprintf("help-over-%d", scr+1), screen: scr, setup: func(d *driver) { d.press("?") }})
	}
	b := newBuilder(&backend{specDir: "experiments"})
	for i, f := range b.fields {
		states = append(states, focusState{name: "builder/" + f.key, screen: screenBuilder,
			setup: func(d *driver) {
				for j := 0; j < i; j++ {
					d.press("down")
				}
			}})
		if f.kind != textField {
			continue
		}
		for _, k := range []string{"enter", "i"} {
			states = append(states, focusState{name: "builder/" + f.key + "/editing-" + k, screen: screenBuilder,
				setup: func(d *driver) {
					for j := 0; j < i; j++ {
						d.press("down")
					}
					d.press(k)
				},
				input: func(d *driver) string { return d.builder().fields[i].input.Value() }, leave: "kept"})
		}
	}
	// The builder editing the fixture study: its variant list and the
	// choice of list or axes are fields too.
	edit := func(d *driver) { d.press("j", "e") }
	probe := newDriver(t, f, &fakeRunner{}, screenStudies)
	edit(probe)
	pb := probe.builder()
	if pb.source == nil || !pb.has(fVariants) {
		t.Fatal("e did not fill the builder from the fixture")
	}
	for i, f := range pb.fields {
		if !pb.visible(i) {
			continue
		}
		n := 0
		for j := 0; j < i; j++ {
			if pb.visible(j) {
				n++
			}
		}
		moveTo := func(d *driver) {
			edit(d)
			for range n {
				d.press("down")
			}
			if got := d.builder().fields[d.builder().focus].key; got != f.key {
				d.t.Fatalf("focus on %s, want %s", got, f.key)
			}
		}
		states = append(states, focusState{name: "builder-edit/" + f.key, screen: screenBuilder, from: screenStudies + 1, setup: moveTo})
		if f.kind == textField {
			states = append(states, focusState{name: "builder-edit/" + f.key + "/editing", screen: screenBuilder, from: screenStudies + 1,
				setup: func(d *driver) { moveTo(d); d.press("enter") },
				input: func(d *driver) string { return d.builder().fields[i].input.Value() }, leave: "kept"})
		}
	}
	return states
}

// TestKeymapNeverTraps drives 1–5, ? and q from every screen in every
// state of focus. Outside a text input they always switch screens and quit (a
// builder field that has the focus but is not being edited takes none of
// them). In a text input (a builder field after enter or i, a filter after
// /) they are typed into it; esc then leaves the input, and 1–5 and q do
// their global thing again.
func TestKeymapNeverTraps(t *testing.T) {
	f := newFixture(t)
	for _, st := range focusStates(t, f) {
		t.Run(st.name, func(t *testing.T) {
			fresh := func() *driver {
				first := st.screen
				if st.from > 0 {
					first = st.from - 1
				}
				d := newDriver(t, f, &fakeRunner{}, first)
				if st.setup != nil {
					st.setup(d)
				}
				if got := d.typing(); got != (st.input != nil) {
					t.Fatalf("typing() = %v after setup", got)
				}
				return d
			}
			if st.input == nil {
				// Each number key goes to its screen, q quits.
				for k := 1; k <= numScreens; k++ {
					d := fresh()
					before := formValues(d.builder())
					d.press(fmt.Sprint(k))
					if d.m.active != k-1 || d.quit {
						t.Errorf("key %d: screen %d (quit %v), want %d", k, d.m.active+1, d.quit, k)
					}
					if d.m.help != nil {
						t.Errorf("key %d: the help stays open", k)
					}
					if after := formValues(d.builder()); after != before {
						t.Errorf("key %d changed the builder form:\n%s\n->\n%s", k, before, after)
					}
				}
				// ? opens the help (closes it when open), nothing typed.
				d := fresh()
				wasHelp, before := d.m.help != nil, formValues(d.builder())
				d.press("?")
				if (d.m.help != nil) == wasHelp || d.m.active != st.screen || formValues(d.builder()) != before {
					t.Errorf("?: help open %v (was %v), screen %d, form changed %v", d.m.help != nil, wasHelp, d.m.active+1, formValues(d.builder()) != before)
				}
				d = fresh()
				d.press("q")
				if !d.quit {
					t.Error("q did not quit")
				}
				return
			}
			d := fresh()
			before := st.input(d)
			d.press("1", "2", "3", "4", "5", "q", "?")
			if d.m.active != st.screen || d.quit || d.m.help != nil {
				t.Fatalf("typing 12345q? switched to screen %d (quit %v, help %v)", d.m.active+1, d.quit, d.m.help != nil)
			}
			if got := st.input(d); got != before+"12345q?" {
				t.Fatalf("input %q after typing 12345q? into %q", got, before)
			}
			d.press("esc")
			if d.typing() {
				t.Fatal("still typing after esc")
			}
			want := before + "12345q?"
			if st.leave == "cleared" {
				want = ""
			}
			if got := st.input(d); got != want {
				t.Errorf("input %q after esc, want %q", got, want)
			}
			if d.m.active != st.screen {
				t.Errorf("esc left the screen for %d", d.m.active+1)
			}
			to := (st.screen+2)%numScreens + 1
			d.press(fmt.Sprint(to))
			if d.m.active != to-1 {
				t.Errorf("after esc, %d shows screen %d", to, d.m.active+1)
			}
			d.press("q")
			if !d.quit {
				t.Error("after esc, q did not quit")
			}
		})
	}
}

// ctrl+c quits from every text input too.
func TestCtrlCQuitsWhileTyping(t *testing.T) {
	f := newFixture(t)
	for _, st := range focusStates(t, f) {
		if st.input == nil {
			continue
		}
		t.Run(st.name, func(t *testing.T) {
			first := st.screen
			if st.from > 0 {
				first = st.from - 1
			}
			d := newDriver(t, f, &fakeRunner{}, first)
			st.setup(d)
			d.press("ctrl+c")
			if !d.quit {
				t.Error("ctrl+c did not quit")
			}
		})
	}
}

// formValues is the builder form as text, to see that no key typed into it.
func formValues(b *builderScreen) string {
	var out []string
	for i := range b.fields {
		f := &b.fields[i]
		v := f.value()
		if f.kind == multiField {
			v = strings.Join(f.values(), "|")
		}
		out = append(out, f.key+"="+v)
	}
	return strings.Join(out, " ")
}

// esc closes what is open (help, detail, filter, selection, editing) and
// then does nothing: it never walks back through the screens visited.
func TestEscNeverLeavesTheScreen(t *testing.T) {
	f := newFixture(t)
	d := newDriver(t, f, &fakeRunner{}, screenStudies)
	d.press("5", "3", "esc", "esc", "esc")
	if d.m.active != screenRuns || d.quit {
		t.Fatalf("esc on Runs went to screen %d", d.m.active+1)
	}
	rs := d.m.screens[screenRuns].(*runsScreen)
	d.press("space", "enter")
	if rs.detail == nil || len(rs.selected) != 1 {
		t.Fatalf("detail %v, %d selected", rs.detail, len(rs.selected))
	}
	d.press("esc")
	if rs.detail != nil || len(rs.selected) != 1 {
		t.Fatalf("first esc: detail %v, %d selected; want the detail closed", rs.detail, len(rs.selected))
	}
	d.press("esc")
	if len(rs.selected) != 0 {
		t.Fatal("second esc did not clear the selection")
	}
	d.press("esc", "esc")
	if d.m.active != screenRuns {
		t.Fatalf("esc left Runs for %d", d.m.active+1)
	}
	d.press("2", "esc", "esc")
	if d.m.active != screenBuilder {
		t.Fatalf("esc left the builder for %d", d.m.active+1)
	}
}

// Switching screens while typing stops the typing: back on the screen,
// the number keys switch again.
func TestLeavingAScreenStopsTyping(t *testing.T) {
	f := newFixture(t)
	d := newDriver(t, f, &fakeRunner{}, screenBuilder)
	d.press("enter", "abl", "tab")
	if d.m.active != screenRuns {
		t.Fatalf("tab while editing: screen %d", d.m.active+1)
	}
	d.press("2")
	if d.builder().editing || d.builder().field(fName).value() != "abl" {
		t.Fatalf("back on the builder: editing %v, name %q", d.builder().editing, d.builder().field(fName).value())
	}
	d.press("1", "/", "fix", "shift+tab", "1")
	ss := d.m.screens[screenStudies].(*studiesScreen)
	if d.m.active != screenStudies || ss.filter.editing || ss.filter.query() != "fix" {
		t.Fatalf("screen %d, filter editing %v %q", d.m.active+1, ss.filter.editing, ss.filter.query())
	}
}

// ctrl+r saves, enqueues and shows Live by itself, also while a field is
// being edited.
func TestBuilderSaveRunShowsLive(t *testing.T) {
	f := newFixture(t)
	r := &fakeRunner{}
	d := newDriver(t, f, r, screenBuilder)
	d.press("i", "abl-live", "ctrl+r")
	if d.m.active != screenLive {
		t.Fatalf("after ctrl+r the screen is %d, want 4 Live", d.m.active+1)
	}
	if d.builder().editing {
		t.Error("still editing after ctrl+r")
	}
	if want := filepath.Join("experiments", "abl-live.toml"); len(r.enqueued) != 1 || r.enqueued[0] != want {
		t.Errorf("enqueued %v, want %s", r.enqueued, want)
	}
	if !strings.Contains(d.m.status, "1 queued") || strings.Contains(d.m.status, "watch on") {
		t.Errorf("status %q", d.m.status)
	}
	d.press("2", "4")
	if d.m.active != screenLive || d.builder().field(fName).value() != "abl-live" {
		t.Errorf("2 then 4: screen %d, name %q", d.m.active+1, d.builder().field(fName).value())
	}
}

// An error cut on the status line says so; ! shows it whole in a box, esc
// closes it.
func TestFullErrorPopup(t *testing.T) {
	f := newFixture(t)
	d := newDriver(t, f, &fakeRunner{}, screenBuilder)
	d.press("!")
	if d.m.errPopup || d.m.status != "no error to show" {
		t.Fatalf("! without an error: popup %v, status %q", d.m.errPopup, d.m.status)
	}
	d.press("i", "../etc", "esc", "ctrl+s")
	full := d.m.lastErr
	const tail = "starting with a letter or digit)"
	if !strings.HasSuffix(full, tail) {
		t.Fatalf("last error %q", full)
	}
	if line := d.m.statusLine(80); !strings.Contains(line, "(! shows all)") || strings.Contains(line, tail) {
		t.Errorf("a cut error does not say so: %q", line)
	}
	d.press("!")
	shot := screenShot{d.m.View(), 80, 24}
	if !d.m.errPopup || !strings.Contains(shot.view, tail) {
		t.Errorf("the popup does not show the whole error:\n%s", shot.view)
	}
	d.press("1")
	if d.m.active != screenBuilder {
		t.Error("the popup let a key through")
	}
	d.press("esc")
	if d.m.errPopup {
		t.Error("esc did not close the popup")
	}
	requireScreen(t, shot)
}
