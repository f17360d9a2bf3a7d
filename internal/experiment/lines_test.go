package experiment

import "testing"

func TestScanKeyLines(t *testing.T) {
	src := `# a comment with [brackets] and key = value
name = "x" # trailing [comment]
seeds = [
  1, 2,  # [not a table]
  3,
]
description = """
[base]
steps = 99
"""
"quoted key" = 1
a.b = 2

[base]
steps = 2
widths = [8, 16,
  32, 64]

[[variant]]
label = "one"
mode = 'a[b'

[[variant]]
label = "two"

[variant.extra]
x = 1

[grid]
temperature = [1, 2]
`
	kl := scanKeyLines([]byte(src))
	want := map[string]int{
		"name":              2,
		"seeds":             3,
		"description":       7,
		"quoted key":        11,
		"a":                 12,
		"a.b":               12,
		"base":              14,
		"base.steps":        15,
		"base.widths":       16,
		"variant":           19,
		"variant.0":         19,
		"variant.0.label":   20,
		"variant.0.mode":    21,
		"variant.1":         23,
		"variant.1.label":   24,
		"variant.1.extra":   26,
		"variant.1.extra.x": 27,
		"grid.temperature":  30,
	}
	for k, l := range want {
		if kl[k] != l {
			t.Errorf("%s: line %d, want %d", k, kl[k], l)
		}
	}
	if _, ok := kl["steps"]; ok {
		t.Error("a line inside a multi-line string was read as a key")
	}
	if got := kl.line("variant", "1", "steps"); got != 23 {
		t.Errorf("fallback to the enclosing table: line %d", got)
	}
	if got := kl.line("nothing"); got != 0 {
		t.Errorf("unknown key: line %d", got)
	}
}
