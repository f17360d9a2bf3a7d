package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// gainRuns are four variants over four seeds: the baseline and two-step
// under the default recipe ("base", "two") and under recipe r ("base-r",
// "two-r"). The default gains are 1.2, 1.0, 1.0, 1.0 (mean 1.05), recipe
// r's 1.0, 1.3, 0.9, 1.2 (mean 1.1), so the interaction Δ per seed is
// −0.2, +0.3, −0.1, +0.2. Run 16 (two-r, seed 4) has a 500-image test set.
func gainRuns() []RunResult {
	acc := map[string][4]float64{
		"base":   {60.0, 61.0, 60.5, 61.0},
		"two":    {61.2, 62.0, 61.5, 62.0},
		"base-r": {59.0, 60.0, 59.5, 60.5},
		"two-r":  {60.0, 61.3, 60.4, 61.7},
	}
	var out []RunResult
	id := int64(0)
	for _, v := range []string{"base", "two", "base-r", "two-r"} {
		for s := range 4 {
			id++
			r := RunResult{Variant: v, Seed: int64(s + 1), RunID: id, TestImages: 1000, Summaries: map[string]float64{"acc.S4": acc[v][s]}}
			if id == 16 {
				r.TestImages = 500
			}
			out = append(out, r)
		}
	}
	return out
}

func gainSpec(name string, claims ...Claim) Spec {
	return Spec{Name: name, Variants: []string{"base", "two", "base-r", "two-r"}, Baseline: "base",
		Metrics: []string{"acc.S4"}, Claims: claims}
}

// gainClaim: recipe r's gain equals the default recipe's.
var gainClaim = Claim{Text: "the gain does not depend on the recipe", Metric: "acc.S4", Variant: "two-r", Baseline: "base-r",
	Variant2: "two", Baseline2: "base", Expect: "equal", Tolerance: 0.5, Delta: fptr(0)}

// The interaction claim against a hand computation. Δ = (−0.2, 0.3, −0.1,
// 0.2): mean 0.05, sample std √(0.17/3) = 0.238048, se = 0.119024. With 3
// df the t CDF is 1/2 + (x/(1+x²) + atan x)/π, x = t/√3. TOST at ±0.5:
// t = (0.05 − 0.5)/se = −3.780756 → p = F(−3.780756) = 0.016213 (the
// other side, t = 4.620924, gives 0.009539). 90% CI: 0.05 ± 2.353363·se =
// [−0.230106, +0.330106]; 95%: 0.05 ± 3.182446·se = [−0.328787,
// +0.428787]. At ±0.3 TOST's p is F((0.05 − 0.3)/se) = 0.063257.
func TestInteractionClaim(t *testing.T) {
	tb, err := Build(gainSpec("recipe", gainClaim), gainRuns())
	if err != nil {
		t.Fatal(err)
	}
	c := tb.Claims[0]
	p := c.Paired
	if p.N() != 4 || !near(p.Delta.Mean, 0.05, 1e-12) || !near(p.Delta.Std, 0.238048, 1e-6) ||
		!near(p.VariantMean, 1.1, 1e-12) || !near(p.BaselineMean, 1.05, 1e-12) {
		t.Fatalf("paired gains: n %d, Δ %v ± %v, gains %v and %v", p.N(), p.Delta.Mean, p.Delta.Std, p.VariantMean, p.BaselineMean)
	}
	if c.Test != "TOST" || !near(c.P, 0.016213, 1e-6) || !near(c.CI90Low, -0.230106, 1e-6) || !near(c.CI90High, 0.330106, 1e-6) ||
		!near(p.Delta.CILow, -0.328787, 1e-6) || !near(p.Delta.CIHigh, 0.428787, 1e-6) {
		t.Errorf("test %s p %v, 90%% CI [%v, %v], 95%% CI [%v, %v]", c.Test, c.P, c.CI90Low, c.CI90High, p.Delta.CILow, p.Delta.CIHigh)
	}
	if c.Verdict != Reproduced || c.Family != 1 || c.Magnitude != MagnitudeConsistent {
		t.Errorf("verdict %s, family %d, magnitude %q: %s", c.Verdict, c.Family, c.Magnitude, c.Reason)
	}
	// The smallest test set of the four runs of every seed.
	if c.TestImages != 500 || !near(c.Resolution, 0.2, 1e-12) {
		t.Errorf("test images %d, resolution %v", c.TestImages, c.Resolution)
	}
	if !strings.HasPrefix(c.Reason, "gains: two-r − base-r +1.1, two − base +1.05 (Δ is their difference); Δ +0.05") {
		t.Errorf("reason %q", c.Reason)
	}

	// A tighter margin: the 90% CI reaches past +0.3, so it is open, and
	// the plan asks for more seeds of all four variants.
	tight := gainClaim
	tight.Tolerance = 0.3
	tb2, err := Build(gainSpec("recipe", tight), gainRuns())
	if err != nil {
		t.Fatal(err)
	}
	c2 := tb2.Claims[0]
	if c2.Verdict != Inconclusive || !near(c2.P, 0.063257, 1e-6) || c2.SeedsNeeded <= 4 || c2.SeedsBasis != "tolerance" {
		t.Errorf("at ±0.3: %s, p %v, seeds needed %d (%s)", c2.Verdict, c2.P, c2.SeedsNeeded, c2.SeedsBasis)
	}
	needs := SeedNeeds(tb2)
	if len(needs) != 4 {
		t.Fatalf("seed needs %+v, want all four variants", needs)
	}
	for _, n := range needs {
		if n.Seeds != c2.SeedsNeeded || n.Has != 4 || len(n.Claims) != 1 {
			t.Errorf("%s: %+v", n.Variant, n)
		}
	}

	// The default tolerance of an accuracy interaction is 0.5 points too.
	def := gainClaim
	def.Tolerance = 0
	tb3, err := Build(gainSpec("recipe", def), gainRuns())
	if err != nil {
		t.Fatal(err)
	}
	if c3 := tb3.Claims[0]; c3.Tolerance != DefaultAccTolerance || !near(c3.P, c.P, 1e-15) {
		t.Errorf("default tolerance %v, p %v", c3.Tolerance, c3.P)
	}
}

// A seed that one of the four variants lacks drops out of the pairs.
func TestInteractionMissingRun(t *testing.T) {
	var rs []RunResult
	for _, r := range gainRuns() {
		if r.Variant == "base" && r.Seed == 2 {
			continue
		}
		rs = append(rs, r)
	}
	tb, err := Build(gainSpec("recipe", gainClaim), rs)
	if err != nil {
		t.Fatal(err)
	}
	p := tb.Claims[0].Paired
	if p.N() != 3 || p.UnpairedSeeds != 1 || len(p.Seeds) != 3 || p.Seeds[1] != 3 {
		t.Errorf("n %d, unpaired %d, seeds %v", p.N(), p.UnpairedSeeds, p.Seeds)
	}
	// Δ = −0.2, −0.1, +0.2 on seeds 1, 3, 4.
	if !near(p.Delta.Mean, -0.1/3, 1e-12) {
		t.Errorf("Δ %v", p.Delta.Mean)
	}
	none, err := Build(gainSpec("recipe", gainClaim), gainRuns()[:8]) // no run of recipe r
	if err != nil {
		t.Fatal(err)
	}
	if c := none.Claims[0]; c.Verdict != NoSpread || !strings.Contains(c.Reason, "no seed has finished all of two-r, base-r, two and base") {
		t.Errorf("%s: %s", c.Verdict, c.Reason)
	}
}

// Holm's family: the same interaction on the same runs is one hypothesis,
// also with its two gains swapped (Δ negated: TOST and the two-sided t
// give the same p); a plain claim on some of those runs is another.
func TestInteractionHolm(t *testing.T) {
	t1, err := Build(gainSpec("one", gainClaim), gainRuns())
	if err != nil {
		t.Fatal(err)
	}
	swapped := gainClaim
	swapped.Text = "the default recipe's gain equals recipe r's"
	swapped.Variant, swapped.Baseline, swapped.Variant2, swapped.Baseline2 = "two", "base", "two-r", "base-r"
	plain := Claim{Text: "two-step beats the baseline under recipe r", Metric: "acc.S4", Variant: "two-r", Baseline: "base-r", Expect: "higher"}
	t2, err := Build(gainSpec("two", swapped, plain), gainRuns())
	if err != nil {
		t.Fatal(err)
	}
	if d := t2.Claims[0].Paired.Delta.Mean; !near(d, -0.05, 1e-12) || !near(t2.Claims[0].P, t1.Claims[0].P, 1e-12) {
		t.Fatalf("swapped: Δ %v, p %v vs %v", d, t2.Claims[0].P, t1.Claims[0].P)
	}
	AdjustClaims(t1, t2)
	for _, c := range []ClaimResult{t1.Claims[0], t2.Claims[0], t2.Claims[1]} {
		if c.Family != 2 {
			t.Errorf("%s: family %d, want 2", c.Text, c.Family)
		}
	}
	if t1.Claims[0].PAdjusted != t2.Claims[0].PAdjusted {
		t.Errorf("one hypothesis, two adjusted p: %v, %v", t1.Claims[0].PAdjusted, t2.Claims[0].PAdjusted)
	}
	if n := CountVerdicts(t1, t2); n.Stochastic != 3 || n.Distinct != 2 {
		t.Errorf("tally %+v: want 3 claims, 2 distinct", n)
	}
	// Without run ids the claims' words tell them apart: two hypotheses.
	rs := gainRuns()
	for i := range rs {
		rs[i].RunID = 0
	}
	u1, _ := Build(gainSpec("one", gainClaim), rs)
	u2, _ := Build(gainSpec("two", swapped), rs)
	AdjustClaims(u1, u2)
	if u1.Claims[0].Family != 2 {
		t.Errorf("without run ids: family %d, want 2", u1.Claims[0].Family)
	}
}

// Every format says what an interaction compares; CSV and JSON carry the
// second gain's variants, JSON the two mean gains.
func TestInteractionRender(t *testing.T) {
	tb, err := Build(gainSpec("recipe", gainClaim), gainRuns())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{Term, Markdown, LaTeX} {
		var b bytes.Buffer
		if err := Render(&b, f, nil, tb); err != nil {
			t.Fatal(err)
		}
		want := "(two-r − base-r) − (two − base)"
		if f == LaTeX {
			want = "(two-r $-$ base-r) $-$ (two $-$ base)"
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s lacks %q:\n%s", f, want, b.String())
		}
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, tb); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	last := recs[len(recs)-1]
	get := func(col string) string { return last[csvCol(col)] }
	if get("row") != "claim" || get("variant") != "two-r" || get("baseline") != "base-r" || get("variant2") != "two" ||
		get("baseline2") != "base" || get("delta") != "0.05" || get("n_paired") != "4" || get("tolerance") != "0.5" || get("verdict") != "reproduced" {
		t.Errorf("CSV claim row %q", last)
	}
	b.Reset()
	if err := WriteJSON(&b, tb); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Claims []map[string]any `json:"claims"`
	}
	if err := json.Unmarshal(b.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	jc := j.Claims[0]
	if jc["variant2"] != "two" || jc["baseline2"] != "base" || jc["gain"] != 1.1 || jc["gain2"] != 1.05 ||
		jc["delta"] != 0.05 || jc["rel_change_percent"] != nil || jc["verdict"] != "reproduced" {
		t.Errorf("JSON claim %v", jc)
	}
}

func TestInteractionSpecErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		claim func(*Claim)
		want  string
	}{
		{"half", func(c *Claim) { c.Baseline2 = "" }, "needs both variant2 and baseline2"},
		{"unknown", func(c *Claim) { c.Variant2 = "three" }, `variant "three" is not one of`},
		{"same gain", func(c *Claim) { c.Variant2, c.Baseline2 = "two-r", "base-r" }, "compares the gain two-r − base-r with itself"},
		{"itself", func(c *Claim) { c.Variant2 = "base" }, "compares variant2 base with itself"},
	} {
		cl := gainClaim
		c.claim(&cl)
		if err := gainSpec("s", cl).Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
