package tui

import (
	"fmt"
	"github.com/mksmt/workbench/internal/report"
	"math"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// Minimum terminal size the layout is designed for; smaller terminals get
// a clipped view rather than a broken one.
const (
	minWidth  = 80
	minHeight = 24
	// chrome is the number of lines around a screen's body: the tab bar,
	// the status line and the key line.
	chrome = 3
)

// styles. Every piece of information is also carried by text (markers,
// brackets), so the UI reads the same without colour; tests force the
// ASCII colour profile and compare plain text.
var (
	stTabActive = lipgloss.NewStyle().Bold(true).Reverse(true)
	stTab       = lipgloss.NewStyle().Faint(true)
	stHeader    = lipgloss.NewStyle().Bold(true).Underline(true)
	stCursor    = lipgloss.NewStyle().Reverse(true)
	stDim       = lipgloss.NewStyle().Faint(true)
	stErr       = lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true)
	stOK        = lipgloss.NewStyle().Foreground(lipgloss.Color("10"))
	stWarn      = lipgloss.NewStyle().Foreground(lipgloss.Color("11"))
	stKey       = lipgloss.NewStyle().Bold(true)
	stBox       = lipgloss.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1)
	stLabel     = lipgloss.NewStyle().Bold(true)
)

// statusStyle colours a run status.
func statusStyle(status string) lipgloss.Style {
	switch status {
	case "finished":
		return stOK
	case "failed", "diverged":
		return stErr
	case "running":
		return stWarn
	}
	return lipgloss.NewStyle()
}

// fit truncates s to width w (ANSI aware, with an ellipsis) and pads it with
// spaces to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if pad := w - lipgloss.Width(s); pad > 0 {
		s += strings.Repeat(" ", pad)
	}
	return s
}

// fitLeft is fit with the text aligned right.
func fitLeft(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if pad := w - lipgloss.Width(s); pad > 0 {
		s = strings.Repeat(" ", pad) + s
	}
	return s
}

// clip makes a block exactly w×h: long lines are truncated, short ones
// padded, missing lines added and extra ones dropped.
func clip(block string, w, h int) string {
	if h <= 0 {
		return ""
	}
	lines := strings.Split(block, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = fit(l, w)
	}
	return strings.Join(lines, "\n")
}

// bar draws a text progress bar of width w for frac in [0, 1].
func bar(frac float64, w int) string {
	if w <= 0 {
		return ""
	}
	if math.IsNaN(frac) || frac < 0 {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	full := int(math.Round(frac * float64(w)))
	return strings.Repeat("█", full) + strings.Repeat("░", w-full)
}

// fmtDuration prints a duration as the CLI does: 12s, 3m05s, 1h02m.
func fmtDuration(d time.Duration) string { return report.Duration(d) }

// fmtPct prints an accuracy in percent, or "-" when missing (NaN).
func fmtPct(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

// helpLine renders key helps as "key desc · key desc", cut to width w.
func helpLine(hs []key.Help, w int) string {
	var b strings.Builder
	for i, h := range hs {
		item := stKey.Render(h.Key) + " " + stDim.Render(h.Desc)
		if i > 0 {
			item = stDim.Render(" · ") + item
		}
		if lipgloss.Width(b.String())+lipgloss.Width(item) > w {
			break
		}
		b.WriteString(item)
	}
	return b.String()
}

// centre places a block in the middle of a w×h area.
func centre(block string, w, h int) string {
	return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, block)
}
