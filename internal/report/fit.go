package report

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/x/ansi"
)

// Fitting terminal tables to a width (COLUMNS, or the terminal's).
//
// A grid wider than the width first wraps its widest cells at word
// boundaries (and after hyphens), never below a column's floor; when even
// the floors do not fit, the columns a grid marks as droppable go, least
// useful first, and a note names them. A word longer than its column ends
// in "…", and so does any line still wider than the width (a grid of
// floors too wide for a very narrow terminal). Prose below the grids wraps
// at word boundaries with a hanging indent.

// ellipsis ends text cut at the width.
const ellipsis = "…"

// minFloor is the narrowest a wrapping column gets (or its natural width
// when that is less), unless a word of its header is longer, or a word of
// its cells up to maxWordFloor.
const (
	minFloor     = 8
	maxWordFloor = 12
)

// colFit says how one column of a grid may be fitted.
type colFit struct {
	// noWrap keeps the column at its natural width.
	noWrap bool
	// floor, when set, is the narrowest the column gets (or its natural
	// width when that is less), instead of minFloor.
	floor int
	// drop > 0 lets the column be left out when the floors do not fit:
	// lower numbers go first.
	drop int
}

// fitted is a grid fitted to a width.
type fitted struct {
	header  []string
	rows    [][]string
	cols    []int    // the indices of the original columns kept
	dropped []string // the headers of the columns left out
	wrapped bool     // some cell takes more than one line
}

// gridWidth is the width of a rendered grid with content widths w: one
// space of padding either side of each cell and a border between and
// around the columns.
func gridWidth(w []int) int {
	n := len(w) + 1
	for _, x := range w {
		n += x + 2
	}
	return n
}

// fitGrid fits a grid to width (≤ 0: no limit). specs may be shorter than
// the header; missing columns wrap and are never dropped.
func fitGrid(header []string, rows [][]string, width int, specs []colFit) fitted {
	all := make([]int, len(header))
	for i := range all {
		all[i] = i
	}
	out := fitted{header: header, rows: rows, cols: all}
	natural := make([]int, len(header))
	for i, h := range header {
		natural[i] = ansi.StringWidth(h)
		for _, r := range rows {
			if i < len(r) {
				natural[i] = max(natural[i], ansi.StringWidth(r[i]))
			}
		}
	}
	if width <= 0 || gridWidth(natural) <= width {
		return out
	}
	spec := func(i int) colFit {
		if i < len(specs) {
			return specs[i]
		}
		return colFit{}
	}
	floor := make([]int, len(header))
	for i, h := range header {
		f := natural[i]
		if !spec(i).noWrap {
			longest := 0
			for _, w := range strings.Fields(h) {
				longest = max(longest, ansi.StringWidth(w))
			}
			word := 0
			for _, r := range rows {
				if i < len(r) {
					for _, w := range strings.Fields(r[i]) {
						word = max(word, min(ansi.StringWidth(w), maxWordFloor))
					}
				}
			}
			fl := minFloor
			if spec(i).floor > 0 {
				fl = spec(i).floor
			}
			f = min(natural[i], max(fl, longest, word))
		}
		floor[i] = f
	}
	// Drop columns, least useful first, while the floors do not fit.
	kept := all
	widths := func(of []int, ws []int) []int {
		out := make([]int, len(of))
		for k, i := range of {
			out[k] = ws[i]
		}
		return out
	}
	for gridWidth(widths(kept, floor)) > width {
		victim, order := -1, 0
		for k, i := range kept {
			if d := spec(i).drop; d > 0 && (victim < 0 || d < order) {
				victim, order = k, d
			}
		}
		if victim < 0 {
			break
		}
		out.dropped = append(out.dropped, header[kept[victim]])
		kept = append(append([]int(nil), kept[:victim]...), kept[victim+1:]...)
	}
	// The largest cap on content widths whose wrapped cells fit, never
	// below a floor: wrapped text is often narrower than its cap, so the
	// cells are measured, not the caps.
	capped := func(c int) []int {
		ws := make([]int, len(kept))
		for k, i := range kept {
			ws[k] = max(floor[i], min(natural[i], c))
		}
		return ws
	}
	wrapAll := func(ws []int) (h []string, rs [][]string, used []int) {
		used = make([]int, len(kept))
		put := func(k int, cell string) string {
			out := wrapCell(cell, ws[k])
			for _, l := range strings.Split(out, "\n") {
				used[k] = max(used[k], ansi.StringWidth(l))
			}
			return out
		}
		h = make([]string, len(kept))
		for k, i := range kept {
			h[k] = put(k, header[i])
		}
		rs = make([][]string, len(rows))
		for j, r := range rows {
			rs[j] = make([]string, len(kept))
			for k, i := range kept {
				if i < len(r) {
					rs[j][k] = put(k, r[i])
				}
			}
		}
		return h, rs, used
	}
	hi := 0
	for _, i := range kept {
		hi = max(hi, natural[i])
	}
	for c := hi; ; c-- {
		h, rs, used := wrapAll(capped(c))
		if gridWidth(used) <= width || c <= 0 {
			out.header, out.rows = h, rs
			break
		}
	}
	out.cols = kept
	for _, r := range append([][]string{out.header}, out.rows...) {
		for _, c := range r {
			out.wrapped = out.wrapped || strings.Contains(c, "\n")
		}
	}
	return out
}

// wrapCell wraps s at spaces to width w; a word longer than w breaks
// after a hyphen between letters ("two-step-" "nokd"), else ends in "…".
// A minus sign stays with its number.
func wrapCell(s string, w int) string {
	if w <= 0 || ansi.StringWidth(s) <= w {
		return s
	}
	var words []string
	for _, word := range strings.Fields(s) {
		words = append(words, splitWord(word, w)...)
	}
	var lines []string
	line := ""
	for _, word := range words {
		switch {
		case line == "":
			line = word
		case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= w:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	return strings.Join(append(lines, line), "\n")
}

// splitWord cuts a word wider than w after hyphens between letters into
// parts no wider than w where it can; a part still too wide ends in "…".
func splitWord(word string, w int) []string {
	if ansi.StringWidth(word) <= w {
		return []string{word}
	}
	r := []rune(word)
	var parts []string
	start, last := 0, -1 // last: the end of the last break point that fits
	for i := 1; i < len(r)-1; i++ {
		if r[i] == '-' && unicode.IsLetter(r[i-1]) && unicode.IsLetter(r[i+1]) {
			if ansi.StringWidth(string(r[start:i+1])) <= w {
				last = i + 1
				continue
			}
			if last > start {
				parts = append(parts, string(r[start:last]))
				start = last
				i = last - 1
				last = -1
			}
		}
	}
	rest := string(r[start:])
	if ansi.StringWidth(rest) > w && last > start {
		parts = append(parts, string(r[start:last]))
		rest = string(r[last:])
	}
	parts = append(parts, rest)
	for i, p := range parts {
		if ansi.StringWidth(p) > w {
			parts[i] = ansi.Truncate(p, w, ellipsis)
		}
	}
	return parts
}

// wrapProse wraps a line of prose to width (≤ 0: no limit) at word
// boundaries; continuation lines get the line's own indent plus two
// spaces. A word wider than the line ends in "…".
func wrapProse(s string, width int) []string {
	if width <= 0 || ansi.StringWidth(s) <= width {
		return []string{s}
	}
	body := strings.TrimLeft(s, " ")
	indent := len(s) - len(body)
	first, rest := strings.Repeat(" ", indent), strings.Repeat(" ", indent+2)
	if width-len(rest) < minFloor { // too narrow to indent
		first, rest = "", ""
	}
	var out []string
	line := first
	empty := true
	for _, word := range strings.Fields(body) {
		lw := ansi.StringWidth(line)
		ww := ansi.StringWidth(word)
		if !empty && lw+1+ww > width {
			out = append(out, line)
			line, empty = rest, true
			lw = len(rest)
		}
		if empty {
			if lw+ww > width {
				word = ansi.Truncate(word, width-lw, ellipsis)
			}
			line += word
			empty = false
			continue
		}
		line += " " + word
	}
	return append(out, line)
}

// clipLines cuts every line of s wider than width with "…" (width ≤ 0:
// none).
func clipLines(s string, width int) string {
	if width <= 0 {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > width {
			lines[i] = ansi.Truncate(l, width, ellipsis)
		}
	}
	return strings.Join(lines, "\n")
}

// WrapText wraps a line of prose to width columns (≤ 0: no limit) at word
// boundaries, as the terminal tables' notes are: continuation lines get the
// line's indent plus two spaces, and only a word wider than a line is cut
// (with "…").
func WrapText(s string, width int) []string { return wrapProse(s, width) }
