package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// helpText is the full help, generated from keymap: one section per scope,
// each binding as "keys  description". Bindings that work while typing are
// marked, so the user knows which keys a text field does not swallow.
func helpText(width int) string {
	var b strings.Builder
	b.WriteString(stHeader.Render("Keys") + "\n")
	b.WriteString(stDim.Render("⌨ = also works while typing in a field or filter") + "\n")
	keyW := 0
	for _, k := range keymap {
		if w := lipgloss.Width(k.key.Help().Key); w > keyW {
			keyW = w
		}
	}
	for s := Scope(0); s < numScopes; s++ {
		first := true
		for _, k := range keymap {
			if k.scope != s {
				continue
			}
			if first {
				b.WriteString("\n" + stLabel.Render(s.String()) + "\n")
				first = false
			}
			mark := " "
			if k.typing {
				mark = "⌨"
			}
			h := k.key.Help()
			line := fmt.Sprintf("  %s %s %s", fit(stKey.Render(h.Key), keyW), mark, h.Desc)
			b.WriteString(fit(line, width) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// helpView is the scrollable help overlay.
type helpView struct {
	offset int
}

func (h *helpView) handle(a Action, lines, height int) {
	switch a {
	case actUp:
		h.offset--
	case actDown:
		h.offset++
	}
	if h.offset > lines-height {
		h.offset = lines - height
	}
	if h.offset < 0 {
		h.offset = 0
	}
}

func (h *helpView) view(w, height int) string {
	lines := strings.Split(helpText(w), "\n")
	if h.offset > 0 && h.offset < len(lines) {
		lines = lines[h.offset:]
	}
	return clip(strings.Join(lines, "\n"), w, height)
}
