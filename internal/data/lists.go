package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// listEntry is one line of a two-column list file: an image id and a value
// (a path, a label, a 0/1 flag), with the line it came from.
type listEntry struct {
	ID    string
	Value string
	Line  int
}

// MaxListLine bounds one line of a list file (64 KiB; real lines are a
// path or a few numbers): a longer one is an error naming the file and
// line, and no line is buffered past it.
const MaxListLine = 1 << 16

// scanLines calls f for every non-blank line of r (1-based line numbers),
// trimmed, without a leading UTF-8 byte order mark. name is used in errors.
// A line over MaxListLine bytes (its end of line not counted) is an error.
func scanLines(r io.Reader, name string, f func(line int, text string) error) error {
	sc := bufio.NewScanner(r)
	// Room for the "\r\n" after a line of MaxListLine bytes, so that the
	// limit is exact.
	sc.Buffer(make([]byte, 4096), MaxListLine+2)
	n := 0
	for sc.Scan() {
		n++
		if len(sc.Bytes()) > MaxListLine {
			return lineTooLong(name, n)
		}
		text := sc.Text()
		if n == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		if err := f(n, text); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return lineTooLong(name, n+1)
		}
		return fmt.Errorf("%s:%d: %w", name, n+1, err)
	}
	return nil
}

func lineTooLong(name string, line int) error {
	return fmt.Errorf("%s:line %d: longer than %d bytes", name, line, MaxListLine)
}

// parseIDList parses a list of "<id> <value>" lines (CUB and NABirds:
// images.txt, image_class_labels.txt, train_test_split.txt, classes.txt).
// The value is the rest of the line after the first run of blanks, so it may
// contain spaces (class names). Ids must be unique. what describes the
// value in errors ("path", "label", ...).
func parseIDList(r io.Reader, name, what string) ([]listEntry, error) {
	var out []listEntry
	seen := map[string]int{}
	err := scanLines(r, name, func(line int, text string) error {
		id, val := text, ""
		if i := strings.IndexAny(text, " \t"); i >= 0 {
			id, val = text[:i], strings.TrimSpace(text[i+1:])
		}
		if val == "" {
			return fmt.Errorf("%s:%d: want \"<id> <%s>\", got %q", name, line, what, clip(text))
		}
		if prev, dup := seen[id]; dup {
			return fmt.Errorf("%s:%d: id %s is listed twice (first on line %d)", name, line, id, prev)
		}
		seen[id] = line
		out = append(out, listEntry{ID: id, Value: val, Line: line})
		return nil
	})
	return out, err
}

// parseBoxes parses bounding_boxes.txt: "<id> <x> <y> <width> <height>",
// numbers in pixels (CUB writes floats, NABirds integers).
func parseBoxes(r io.Reader, name string) (map[string]box, error) {
	out := map[string]box{}
	lines := map[string]int{}
	err := scanLines(r, name, func(line int, text string) error {
		f := strings.Fields(text)
		if len(f) != 5 {
			return fmt.Errorf("%s:%d: want \"<id> <x> <y> <width> <height>\", got %q", name, line, clip(text))
		}
		var v [4]float64
		for i := range v {
			x, err := strconv.ParseFloat(f[i+1], 64)
			if err != nil || x != x || x > 1e7 || x < -1e7 {
				return fmt.Errorf("%s:%d: %q is not a number of pixels", name, line, clip(f[i+1]))
			}
			v[i] = x
		}
		if v[2] <= 0 || v[3] <= 0 {
			return fmt.Errorf("%s:%d: box of image %s has width %g and height %g; both must be positive", name, line, f[0], v[2], v[3])
		}
		if prev, dup := lines[f[0]]; dup {
			return fmt.Errorf("%s:%d: id %s is listed twice (first on line %d)", name, line, f[0], prev)
		}
		lines[f[0]] = line
		out[f[0]] = box{X: v[0], Y: v[1], W: v[2], H: v[3]}
		return nil
	})
	return out, err
}

// dogsEntry is one line of a Stanford Dogs list: a path under Images/ and,
// when the list has one, its 1-based label.
type dogsEntry struct {
	Path  string
	Label int // 0 when the line has none
	Line  int
}

// parseDogsList parses a Stanford Dogs text list (train_list.txt,
// test_list.txt): one "<wnid-name>/<file>.jpg" per line, optionally
// preceded by "Images/" and followed by a 1-based label.
func parseDogsList(r io.Reader, name string) ([]dogsEntry, error) {
	var out []dogsEntry
	seen := map[string]int{}
	err := scanLines(r, name, func(line int, text string) error {
		f := strings.Fields(text)
		e := dogsEntry{Line: line}
		switch len(f) {
		case 1:
		case 2:
			l, err := strconv.Atoi(f[1])
			if err != nil || l < 1 {
				return fmt.Errorf("%s:%d: label %q is not a positive integer", name, line, clip(f[1]))
			}
			e.Label = l
		default:
			return fmt.Errorf("%s:%d: want \"<wnid-name>/<file>.jpg [label]\", got %q", name, line, clip(text))
		}
		p := strings.TrimPrefix(strings.ReplaceAll(f[0], "\\", "/"), "Images/")
		dir, file, ok := strings.Cut(p, "/")
		if !ok || dir == "" || file == "" || strings.Contains(file, "/") || dir == ".." || file == ".." {
			return fmt.Errorf("%s:%d: path %q is not <wnid-name>/<file>", name, line, clip(f[0]))
		}
		if prev, dup := seen[p]; dup {
			return fmt.Errorf("%s:%d: %s is listed twice (first on line %d)", name, line, p, prev)
		}
		seen[p] = line
		e.Path = p
		out = append(out, e)
		return nil
	})
	return out, err
}

// clip shortens text quoted in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// readList opens a list file and parses it with parse.
func readList[T any](path string, parse func(io.Reader, string) (T, error)) (T, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero T
		return zero, err
	}
	defer f.Close()
	return parse(f, path)
}
