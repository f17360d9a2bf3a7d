package tui

import (
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// Scope says where a key binding applies. The help screen groups bindings
// by scope, in the order below.
type Scope int

const (
	ScopeGlobal  Scope = iota // every screen
	ScopeList                 // the lists of Studies, Runs, Live and Compare
	ScopeStudies              // 1 Studies
	ScopeBuilder              // 2 Ablation builder
	ScopeEdit                 // while editing a builder field
	ScopeRuns                 // 3 Runs
	ScopeDetail               // the detail view of one run (enter on Runs)
	ScopeDiff                 // the diff of the selected runs (d on Runs)
	ScopeLive                 // 4 Live
	ScopeCompare              // 5 Compare
	ScopeFilter               // while typing a filter
	ScopeConfirm              // a yes/no question
	ScopePrompt               // a line of text asked for (a note, tags)
	ScopeQuit                 // the question asked when quitting with active runs
	ScopeHelp                 // this help
	numScopes
)

var scopeNames = [numScopes]string{
	ScopeGlobal:  "Global",
	ScopeList:    "Lists",
	ScopeStudies: "Studies",
	ScopeBuilder: "Ablation builder",
	ScopeEdit:    "Editing a builder field",
	ScopeRuns:    "Runs",
	ScopeDetail:  "Run detail",
	ScopeDiff:    "Run diff",
	ScopeLive:    "Live",
	ScopeCompare: "Compare",
	ScopeFilter:  "Filter",
	ScopeConfirm: "Confirmation",
	ScopePrompt:  "Text prompt (note, tags)",
	ScopeQuit:    "Quit with active runs",
	ScopeHelp:    "Help",
}

func (s Scope) String() string {
	if s < 0 || s >= numScopes {
		return "?"
	}
	return scopeNames[s]
}

// Action is what a key does. Screens handle the actions of their scopes.
type Action int

const (
	actNone Action = iota
	// Global.
	actQuit
	actForceQuit
	actHelp
	actBack
	actNextScreen
	actPrevScreen
	actScreenStudies
	actScreenBuilder
	actScreenRuns
	actScreenLive
	actScreenCompare
	actShowError
	// Lists.
	actUp
	actDown
	actPageUp
	actPageDown
	actTop
	actBottom
	actFilter
	// Studies.
	actOpenStudy
	actRunStudy
	actNewStudy
	actEditStudy
	actCopyStudy
	// Builder.
	actFieldNext
	actFieldPrev
	actEditField
	actEditDone
	actOptionLeft
	actOptionRight
	actToggle
	actSave
	actSaveRun
	// Runs.
	actSortNext
	actSortReverse
	actSelect
	actSelectAll
	actOpenRun
	actCancelRun
	actResumeRun
	actDiffRuns
	actRemoveRun
	actTagRun
	actNoteRun
	actWatchRun
	actShowAll
	// Compare.
	actPrevStudy
	actNextStudy
	actExport
	actScrollLeft
	actScrollRight
	// Filter.
	actFilterApply
	actFilterClear
	// Prompt.
	actPromptApply
	actPromptCancel
	// Confirm.
	actYes
	actNo
	// Quit.
	actQuitStop
	actQuitLeave
)

// binding is one row of the keymap: a key, the scope where it applies, the
// action it triggers and its help text. typing marks the bindings that stay
// active while a text input has the focus (all other keys are typed into it).
type binding struct {
	scope  Scope
	key    key.Binding
	action Action
	typing bool
	short  string // the description on the key line ("" = the help text)
}

func bind(scope Scope, action Action, help string, keys ...string) binding {
	label := keyLabel(keys[0])
	if len(keys) > 1 {
		label += "/" + keyLabel(keys[1])
	}
	return binding{scope: scope, action: action, key: key.NewBinding(key.WithKeys(keys...), key.WithHelp(label, help))}
}

// keyLabel is how a key is written in the help: bubbletea names the space
// bar " ".
func keyLabel(k string) string {
	switch k {
	case " ":
		return "space"
	case "up":
		return "↑"
	case "down":
		return "↓"
	case "left":
		return "←"
	case "right":
		return "→"
	}
	return k
}

func typing(b binding) binding { b.typing = true; return b }

// brief sets the short description shown on the key line.
func (b binding) brief(s string) binding { b.short = s; return b }

// keymap is the single table of keys: Update dispatches through it and the
// help screen is generated from it. Order matters: within the active scopes
// the first match wins, and help lists bindings in this order.
var keymap = []binding{
	typing(bind(ScopeGlobal, actForceQuit, "quit at once (asks first if runs are active)", "ctrl+c")),
	bind(ScopeGlobal, actQuit, "quit (asks first if runs are active)", "q").brief("quit"),
	bind(ScopeGlobal, actHelp, "show / hide this help", "?").brief("help"),
	typing(bind(ScopeGlobal, actBack, "close / stop editing / clear (never leaves the screen)", "esc")),
	typing(bind(ScopeGlobal, actNextScreen, "next screen", "tab")),
	typing(bind(ScopeGlobal, actPrevScreen, "previous screen", "shift+tab")),
	bind(ScopeGlobal, actScreenStudies, "Studies", "1"),
	bind(ScopeGlobal, actScreenBuilder, "Ablation builder", "2"),
	bind(ScopeGlobal, actScreenRuns, "Runs", "3"),
	bind(ScopeGlobal, actScreenLive, "Live", "4"),
	bind(ScopeGlobal, actScreenCompare, "Compare", "5"),
	bind(ScopeGlobal, actShowError, "show the last error in full", "!"),

	bind(ScopeList, actUp, "up", "up", "k"),
	bind(ScopeList, actDown, "down", "down", "j"),
	bind(ScopeList, actPageUp, "page up", "pgup", "ctrl+b"),
	bind(ScopeList, actPageDown, "page down", "pgdown", "ctrl+f"),
	bind(ScopeList, actTop, "first", "home", "g"),
	bind(ScopeList, actBottom, "last", "end", "G"),

	bind(ScopeStudies, actFilter, "filter (words must all match; field=value)", "/").brief("filter"),
	bind(ScopeStudies, actOpenStudy, "compare the study", "enter").brief("compare"),
	bind(ScopeStudies, actRunStudy, "run the study (its spec file)", "r").brief("run"),
	bind(ScopeStudies, actEditStudy, "edit the study in the builder (saves back to its spec file)", "e").brief("edit"),
	bind(ScopeStudies, actCopyStudy, "copy the study into the builder (saves as NAME-copy)", "c").brief("copy"),
	bind(ScopeStudies, actNewStudy, "new study in the builder", "n").brief("new"),

	bind(ScopeBuilder, actFieldPrev, "previous field", "up", "k").brief("field"),
	bind(ScopeBuilder, actFieldNext, "next field", "down", "j").brief("field"),
	bind(ScopeBuilder, actEditField, "edit the text field (toggle an option)", "enter", "i").brief("edit"),
	bind(ScopeBuilder, actOptionLeft, "previous option", "left", "h").brief("option"),
	bind(ScopeBuilder, actOptionRight, "next option", "right", "l").brief("option"),
	bind(ScopeBuilder, actToggle, "toggle the option", " ", "x").brief("option"),
	typing(bind(ScopeBuilder, actSave, "save experiments/NAME.toml", "ctrl+s").brief("save")),
	typing(bind(ScopeBuilder, actSaveRun, "save, run the study and watch it on Live", "ctrl+r").brief("run")),

	typing(bind(ScopeEdit, actEditDone, "stop editing (keys act on screens again)", "enter", "esc").brief("done")),
	typing(bind(ScopeEdit, actFieldPrev, "stop editing, previous field", "up").brief("field")),
	typing(bind(ScopeEdit, actFieldNext, "stop editing, next field", "down").brief("field")),

	bind(ScopeRuns, actFilter, "filter as runs --where (status:finished acc.S4>60), or words", "/").brief("filter"),
	bind(ScopeRuns, actOpenRun, "details of the run", "enter").brief("details"),
	bind(ScopeRuns, actSelect, "select / unselect the run", " ").brief("select"),
	bind(ScopeRuns, actCancelRun, "cancel running run(s), archive (unarchive) ended ones; asks", "x").brief("cancel/archive"),
	bind(ScopeRuns, actRemoveRun, "remove ended run(s) and their files for good; asks", "X").brief("remove"),
	bind(ScopeRuns, actResumeRun, "resume the run(s)", "r").brief("resume"),
	bind(ScopeRuns, actDiffRuns, "diff the selected runs side by side (two or more)", "d").brief("diff"),
	bind(ScopeRuns, actWatchRun, "open the run on Live (any run, finished too)", "w").brief("live"),
	bind(ScopeRuns, actTagRun, "tag the run(s): names to add, -name to remove", "t").brief("tag"),
	bind(ScopeRuns, actNoteRun, "write the run's note (empty clears it)", "n").brief("note"),
	bind(ScopeRuns, actSortNext, "sort by the next column", "s").brief("sort"),
	bind(ScopeRuns, actSortReverse, "reverse the sort order", "S").brief("reverse"),
	bind(ScopeRuns, actSelectAll, "select all shown / none", "a").brief("all"),

	bind(ScopeDetail, actUp, "scroll up", "up", "k").brief("scroll"),
	bind(ScopeDetail, actDown, "scroll down", "down", "j").brief("scroll"),
	bind(ScopeDetail, actCancelRun, "cancel the run, or archive (unarchive) it once ended; asks", "x").brief("cancel/archive"),
	bind(ScopeDetail, actRemoveRun, "remove the ended run for good (asks first)", "X").brief("remove"),
	bind(ScopeDetail, actResumeRun, "resume the run", "r").brief("resume"),
	bind(ScopeDetail, actWatchRun, "open the run on Live", "w").brief("live"),
	bind(ScopeDetail, actTagRun, "tag the run: names to add, -name to remove", "t").brief("tag"),
	bind(ScopeDetail, actNoteRun, "write the run's note (empty clears it)", "n").brief("note"),

	bind(ScopeDiff, actUp, "scroll up", "up", "k").brief("scroll"),
	bind(ScopeDiff, actDown, "scroll down", "down", "j").brief("scroll"),
	bind(ScopeDiff, actShowAll, "show the equal params too / only those that differ", "a").brief("all params"),

	bind(ScopeLive, actOpenRun, "details of the run", "enter").brief("details"),

	bind(ScopeCompare, actPrevStudy, "previous study", "[").brief("study"),
	bind(ScopeCompare, actNextStudy, "next study", "]").brief("study"),
	bind(ScopeCompare, actScrollLeft, "scroll left", "left", "h").brief("scroll"),
	bind(ScopeCompare, actScrollRight, "scroll right", "right", "l").brief("scroll"),
	bind(ScopeCompare, actExport, "export table (md, csv, latex) and plots to plots/", "e").brief("export"),

	typing(bind(ScopeFilter, actFilterApply, "keep the filter", "enter").brief("keep")),
	typing(bind(ScopeFilter, actFilterClear, "clear the filter", "esc").brief("clear")),

	typing(bind(ScopePrompt, actPromptApply, "done", "enter")),
	typing(bind(ScopePrompt, actPromptCancel, "cancel", "esc")),

	bind(ScopeConfirm, actYes, "yes", "y"),
	bind(ScopeConfirm, actNo, "no", "n", "esc"),

	bind(ScopeQuit, actQuitStop, "stop the runs (they checkpoint) and quit", "s").brief("stop runs & quit"),
	bind(ScopeQuit, actQuitLeave, "leave the runs going and quit", "l").brief("leave runs & quit"),
	bind(ScopeQuit, actNo, "do not quit", "esc", "n").brief("stay"),

	bind(ScopeHelp, actUp, "scroll up", "up", "k").brief("scroll"),
	bind(ScopeHelp, actDown, "scroll down", "down", "j").brief("scroll"),
	bind(ScopeHelp, actBack, "close the help", "esc", "?").brief("close"),
}

// lookup finds the action of a key press. Scopes are searched in the order
// given (the innermost first, so a screen's binding wins over a global one
// on the same key), and within a scope in keymap order. While text is being
// typed only bindings marked typing match.
func lookup(msg tea.KeyMsg, scopes []Scope, isTyping bool) (Action, bool) {
	for _, s := range scopes {
		for _, b := range keymap {
			if b.scope != s || (isTyping && !b.typing) {
				continue
			}
			if key.Matches(msg, b.key) {
				return b.action, true
			}
		}
	}
	return actNone, false
}

// shortHelp is the key line's help of the given scopes: their bindings as
// "key brief" pairs, in keymap order. Bindings sharing a brief are merged
// ("↑/↓ field").
func shortHelp(scopes ...Scope) []key.Help {
	var out []key.Help
	for _, s := range scopes {
		for _, b := range keymap {
			if b.scope != s {
				continue
			}
			h := b.short
			if h == "" {
				h = b.key.Help().Desc
			}
			k := keyLabel(b.key.Keys()[0])
			if n := len(out); n > 0 && out[n-1].Desc == h {
				out[n-1].Key += "/" + k
				continue
			}
			out = append(out, key.Help{Key: k, Desc: h})
		}
	}
	return out
}

// keyHelp is the key line's help of the binding of an action in a scope.
func keyHelp(s Scope, a Action) key.Help {
	for _, b := range keymap {
		if b.scope == s && b.action == a {
			h := key.Help{Key: keyLabel(b.key.Keys()[0]), Desc: b.key.Help().Desc}
			if b.short != "" {
				h.Desc = b.short
			}
			return h
		}
	}
	panic(fmt.Sprintf("tui: no binding for action %d in scope %s", a, s))
}
