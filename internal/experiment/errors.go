package experiment

import (
	"fmt"
	"strings"
)

// Error is one problem in a spec, located at a line of its file.
type Error struct {
	Path    string   // spec file ("" when parsed from memory)
	Line    int      // 1-based; 0 when the problem has no single line
	Field   string   // e.g. "variant[2].steps", "grid.temperature", "seeds"
	Message string   // what is wrong
	Allowed []string // the accepted values or forms, when there is a short list
}

func (e *Error) Error() string {
	var b strings.Builder
	path := e.Path
	if path == "" {
		path = "spec"
	}
	b.WriteString(path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	b.WriteString(allowedNote(e.Allowed))
	return b.String()
}

// allowedNote is " (allowed: a, b, c)", or "" for an empty list.
func allowedNote(allowed []string) string {
	if len(allowed) == 0 {
		return ""
	}
	return " (allowed: " + strings.Join(allowed, ", ") + ")"
}

// ErrorList is every problem found in one spec, in file order. Parse returns
// it (as error) so that an editor can mark each line; its message lists one
// problem per line.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap gives errors.As/Is access to each problem.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// suggest returns the candidate closest to word when it is close enough to
// be a likely typo (a small edit distance, ignoring case first and then
// counting it), or when one is a prefix of the other ("expectation" ->
// "expect"); else "".
func suggest(word string, candidates []string) string {
	lw := strings.ToLower(word)
	limit := max(len([]rune(word))/3, 2)
	best, bestD, bestExact := "", -1, -1
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(lw, lc)
		if d == len([]rune(word)) || d > limit {
			if len(lc) < 3 || len(lw) < 3 || !(strings.HasPrefix(lw, lc) || strings.HasPrefix(lc, lw)) {
				continue
			}
			d = limit // a prefix match ranks after any close typo
		}
		exact := editDistance(word, c)
		if bestD < 0 || d < bestD || d == bestD && exact < bestExact {
			best, bestD, bestExact = c, d, exact
		}
	}
	return best
}

// didYouMean is "; did you mean %q?" with suggest's candidate for word, or
// "" when none is close.
func didYouMean(word string, candidates []string) string {
	if m := suggest(word, candidates); m != "" {
		return fmt.Sprintf("; did you mean %q?", m)
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, over runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
