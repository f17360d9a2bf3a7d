package experiment

import (
	"reflect"
	"strings"
	"testing"
)

// The claim fields the verdict rules use survive Parse → Encode → Parse.
func TestClaimFieldsRoundTrip(t *testing.T) {
	src := head + twoVariants + `
[[claim]]
text = "a's hflip drop is about 0"
metric = "acc.S3"
versus_metric = "acc.S4"
variant = "a"
baseline = "a"
expect = "equal"
tolerance = 0.25
delta = 0

[[claim]]
text = "b beats a"
metric = "acc.S4"
variant = "b"
expect = "higher"
delta = 0.9
source = "workbench"
`
	s, err := Parse("c.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Claims
	if len(c) != 2 || c[0].VersusMetric != "acc.S4" || c[0].Tolerance != 0.25 || c[0].Delta == nil || *c[0].Delta != 0 ||
		c[1].Source != "workbench" || c[1].Delta == nil || *c[1].Delta != 0.9 || c[1].Tolerance != 0 || c[0].Source != "" {
		t.Fatalf("claims %+v", c)
	}
	out, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"versus_metric = \"acc.S4\"", "tolerance = 0.25", "delta = 0.9", "source = \"workbench\""} {
		if !strings.Contains(string(out), want) {
			t.Errorf("encoded spec lacks %s:\n%s", want, out)
		}
	}
	back, err := Parse("c.toml", out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Claims, s.Claims) {
		t.Errorf("round trip: %+v, want %+v", back.Claims, s.Claims)
	}
}

// An interaction claim keeps both gains through Parse → Encode → Parse;
// baseline2 has no default, and Interaction tells it from a plain claim.
func TestInteractionClaimRoundTrip(t *testing.T) {
	src := head + twoVariants + `
[[variant]]
label = "c"
steps = 3

[[claim]]
text = "b's gain over a equals c's"
metric = "acc.S4"
variant = "b"
variant2 = "c"
baseline2 = "a"
expect = "equal"
tolerance = 0.45
`
	s, err := Parse("i.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := s.Claims[0]
	if c.Variant != "b" || c.Baseline != "a" || c.Variant2 != "c" || c.Baseline2 != "a" || !c.Interaction() {
		t.Fatalf("claim %+v", c)
	}
	out, err := Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "variant2 = \"c\"\nbaseline2 = \"a\"\n") {
		t.Errorf("encoded spec lacks the second gain:\n%s", out)
	}
	back, err := Parse("i.toml", out)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Claims, s.Claims) {
		t.Errorf("round trip: %+v, want %+v", back.Claims, s.Claims)
	}
	if (Claim{Variant: "b", Baseline: "a"}).Interaction() {
		t.Error("a claim without variant2 is not an interaction")
	}
}
