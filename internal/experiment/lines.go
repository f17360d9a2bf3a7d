package experiment

import (
	"strconv"
	"strings"
)

// keyLines maps key paths of a TOML document to the line that defines them.
// BurntSushi/toml keeps key positions private, so this is a small scanner of
// its own: it follows table headers, array-of-table indexes, multi-line
// strings and multi-line arrays, and records "key = value" lines. Paths join
// parts with "."; an array-of-tables element is "variant.0". It never fails:
// on text it does not understand it records less, and lookups fall back to
// the nearest enclosing key.
type keyLines map[string]int

func scanKeyLines(src []byte) keyLines {
	kl := keyLines{}
	arrays := map[string]int{} // array-of-tables path -> index of its last element
	var cur []string           // current table path, indexes included
	depth := 0                 // open brackets/braces of a multi-line value
	inML := ""                 // open multi-line string delimiter
	lines := strings.Split(string(src), "\n")
	for i, line := range lines {
		lineNo := i + 1
		rest := line
		if inML == "" && depth == 0 {
			t := strings.TrimLeft(line, " \t")
			switch {
			case strings.HasPrefix(t, "[["):
				parts, n := parseKey(t[2:])
				if len(parts) == 0 {
					break
				}
				path := resolveArrays(parts[:len(parts)-1], arrays)
				path = append(path, parts[len(parts)-1])
				full := strings.Join(path, ".")
				idx := 0
				if last, ok := arrays[full]; ok {
					idx = last + 1
				}
				arrays[full] = idx
				cur = append(path, strconv.Itoa(idx))
				kl.set(strings.Join(cur, "."), lineNo)
				kl.set(full, lineNo)
				rest = t[2+n:]
			case strings.HasPrefix(t, "["):
				parts, n := parseKey(t[1:])
				if len(parts) == 0 {
					break
				}
				cur = resolveArrays(parts, arrays)
				kl.set(strings.Join(cur, "."), lineNo)
				rest = t[1+n:]
			case t != "" && t[0] != '#':
				parts, n := parseKey(t)
				if len(parts) == 0 {
					break
				}
				path := append(append([]string{}, cur...), parts...)
				for j := len(cur) + 1; j <= len(path); j++ {
					kl.set(strings.Join(path[:j], "."), lineNo)
				}
				rest = t[n:]
				if k := strings.IndexByte(rest, '='); k >= 0 {
					rest = rest[k+1:]
				}
			}
		}
		depth, inML = scanValue(rest, depth, inML)
	}
	return kl
}

func (kl keyLines) set(path string, line int) {
	if _, ok := kl[path]; !ok {
		kl[path] = line
	}
}

// line returns the line of the most specific known prefix of path.
func (kl keyLines) line(path ...string) int {
	for n := len(path); n > 0; n-- {
		if l, ok := kl[strings.Join(path[:n], ".")]; ok {
			return l
		}
	}
	return 0
}

// resolveArrays inserts the current element index after every prefix that is
// an array of tables, so [variant.x] after [[variant]] is "variant.N.x".
func resolveArrays(parts []string, arrays map[string]int) []string {
	var out []string
	var plain []string
	for _, p := range parts {
		out = append(out, p)
		plain = append(plain, p)
		if idx, ok := arrays[strings.Join(plain, ".")]; ok {
			out = append(out, strconv.Itoa(idx))
		}
	}
	return out
}

// parseKey reads a dotted key (bare or quoted parts) at the start of s and
// returns its parts and the bytes consumed, stopping before '=' or ']'.
func parseKey(s string) ([]string, int) {
	var parts []string
	i := 0
	for {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			return parts, i
		}
		switch s[i] {
		case '"', '\'':
			q := s[i]
			j := i + 1
			var b strings.Builder
			for j < len(s) && s[j] != q {
				if q == '"' && s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
				j++
			}
			parts = append(parts, b.String())
			i = j + 1
			if i > len(s) {
				i = len(s)
			}
		default:
			j := i
			for j < len(s) && isBareKeyChar(s[j]) {
				j++
			}
			if j == i {
				return parts, i
			}
			parts = append(parts, s[i:j])
			i = j
		}
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i < len(s) && s[i] == '.' {
			i++
			continue
		}
		for i < len(s) && s[i] == ']' {
			i++
		}
		return parts, i
	}
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// scanValue follows strings, comments and brackets through the rest of a
// line and returns the open bracket depth and multi-line string state.
func scanValue(s string, depth int, inML string) (int, string) {
	i := 0
	for i < len(s) {
		if inML != "" {
			k := strings.Index(s[i:], inML)
			if k < 0 {
				return depth, inML
			}
			i += k + len(inML)
			inML = ""
			continue
		}
		c := s[i]
		switch {
		case c == '#':
			return depth, ""
		case strings.HasPrefix(s[i:], `"""`) || strings.HasPrefix(s[i:], `'''`):
			inML = s[i : i+3]
			i += 3
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(s) && s[j] != c {
				if c == '"' && s[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
		case c == '[' || c == '{':
			depth++
			i++
		case c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
			i++
		default:
			i++
		}
	}
	return depth, inML
}
