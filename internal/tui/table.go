package tui

import (
	"strings"
)

// column describes one column of a table view.
type column struct {
	title string
	width int  // cells; 0 = share the width left by the fixed columns
	min   int  // minimum width of a flexible column
	right bool // right-aligned (numbers)
}

// fit fits s to the column's width w, aligned as the column is.
func (c column) fit(s string, w int) string {
	if c.right {
		return fitLeft(s, w)
	}
	return fit(s, w)
}

// cursor is a position in a list of n items shown h at a time.
type cursor struct {
	pos, offset int
}

// move moves the cursor by delta, clamped to [0, n), and scrolls so it
// stays visible in a window of h rows.
func (c *cursor) move(delta, n, h int) {
	c.set(c.pos+delta, n, h)
}

// set places the cursor at i, clamped to [0, n), and scrolls.
func (c *cursor) set(i, n, h int) {
	if i >= n {
		i = n - 1
	}
	if i < 0 {
		i = 0
	}
	c.pos = i
	c.scroll(n, h)
}

// scroll adjusts the offset so that the cursor is visible.
func (c *cursor) scroll(n, h int) {
	if h < 1 {
		h = 1
	}
	if c.pos >= n {
		c.pos = max(n-1, 0)
	}
	if c.pos < c.offset {
		c.offset = c.pos
	}
	if c.pos >= c.offset+h {
		c.offset = c.pos - h + 1
	}
	if c.offset > max(n-h, 0) {
		c.offset = max(n-h, 0)
	}
	if c.offset < 0 {
		c.offset = 0
	}
}

// handleNav applies a list navigation action; it reports whether it did.
func (c *cursor) handleNav(a Action, n, h int) bool {
	switch a {
	case actUp:
		c.move(-1, n, h)
	case actDown:
		c.move(1, n, h)
	case actPageUp:
		c.move(-max(h-1, 1), n, h)
	case actPageDown:
		c.move(max(h-1, 1), n, h)
	case actTop:
		c.set(0, n, h)
	case actBottom:
		c.set(n-1, n, h)
	default:
		return false
	}
	return true
}

// tableView renders rows lazily: only the visible rows' cells are asked
// for, so a table of 10,000 runs costs what a screenful costs.
type tableView struct {
	cols    []column
	sortCol int  // -1: none
	sortRev bool // descending
}

// widths lays the columns out in w cells (after the two marker cells and
// one space between columns).
func (t tableView) widths(w int) []int {
	ws := make([]int, len(t.cols))
	avail := w - 2 - (len(t.cols) - 1)
	flex := 0
	for i, c := range t.cols {
		if c.width > 0 {
			ws[i] = c.width
			avail -= c.width
		} else {
			flex++
		}
	}
	if flex > 0 {
		share := avail / flex
		extra := avail - share*flex
		for i, c := range t.cols {
			if c.width == 0 {
				ws[i] = max(share, c.min)
				if extra > 0 {
					ws[i]++
					extra--
				}
			}
		}
	}
	return ws
}

// header renders the column titles in widths ws, marking the sort column.
func (t tableView) header(w int, ws []int) string {
	var b strings.Builder
	b.WriteString("  ")
	for i, c := range t.cols {
		title := c.title
		if i == t.sortCol {
			if t.sortRev {
				title += "▼"
			} else {
				title += "▲"
			}
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.fit(title, ws[i]))
	}
	return stHeader.Render(fit(b.String(), w))
}

// render draws the header and the visible rows of n. cell returns the text
// of a cell; marked says whether a row is selected.
func (t tableView) render(w, h, n int, cur cursor, cell func(row, col int) string, marked func(row int) bool) string {
	ws := t.widths(w)
	lines := make([]string, 0, h)
	lines = append(lines, t.header(w, ws))
	var b strings.Builder
	for r := cur.offset; r < n && len(lines) < h; r++ {
		b.Reset()
		if r == cur.pos {
			b.WriteByte('>')
		} else {
			b.WriteByte(' ')
		}
		if marked != nil && marked(r) {
			b.WriteByte('*')
		} else {
			b.WriteByte(' ')
		}
		for i, c := range t.cols {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(c.fit(cell(r, i), ws[i]))
		}
		line := fit(b.String(), w)
		if r == cur.pos {
			line = stCursor.Render(line)
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}
