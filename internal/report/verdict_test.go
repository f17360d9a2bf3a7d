package report

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// pairs builds a paired comparison whose per-seed differences are ds
// (baseline 50 on every seed).
func pairs(ds ...float64) Paired {
	v, b := map[int64]float64{}, map[int64]float64{}
	for i, d := range ds {
		v[int64(i+1)], b[int64(i+1)] = 50+d, 50
	}
	return ComparePaired(v, b)
}

// spread3 is three differences m−s, m, m+s: mean m, sample std s.
func spread3(m, s float64) Paired { return pairs(m-s, m, m+s) }

func fptr(x float64) *float64 { return &x }

// t(0.975, 2) and t(0.95, 2), checked against printed tables.
const (
	t975df2 = 4.302653
	t95df2  = 2.919986
)

func TestJudgeRules(t *testing.T) {
	// Counter-example 1 of issue 12: Δ +0.4, 95% CI [+0.15, +0.65] (n = 3,
	// s = 0.25·√3/4.302653). TOST with tolerance 0.5 by hand: se = 0.25/4.302653
	// = 0.058104; (0.4 − 0.5)/se = −1.72105; with 2 df the t CDF is
	// 1/2 + t/(2√(t²+2)), so p = 0.5 − 1.72105/(2·2.22756) = 0.11369 > 0.05.
	ex1 := spread3(0.4, 0.25*math.Sqrt(3)/t975df2)
	// 90% CI upper bound of spread3(m, 0.1) is m + 2.919986·0.1/√3 = m + 0.168585.
	hw90 := t95df2 * 0.1 / math.Sqrt(3)
	for _, c := range []struct {
		name   string
		claim  Claim
		p      Paired
		want   Verdict
		reason string
	}{
		{"issue counter-example 1: equal, CI [+0.15, +0.65]", Claim{Metric: "acc.S3", Expect: "equal", Tolerance: 0.5}, ex1, Inconclusive, "TOST p=0.114"},
		{"same, default tolerance is 0.5", Claim{Metric: "acc.S3", Expect: "equal"}, ex1, Inconclusive, "90% CI is not inside ±0.5"},
		{"issue counter-example 2: two seeds +0.1 each", Claim{Metric: "acc.S4", Expect: "higher"}, pairs(0.1, 0.1), NoSpread, "no spread"},
		{"no spread, equal claim", Claim{Metric: "acc.S3", Expect: "equal"}, pairs(0, 0, 0), NoSpread, "no spread"},
		{"one seed", Claim{Metric: "acc.S4", Expect: "higher"}, pairs(1), NoSpread, "need ≥ 2 paired seeds"},
		{"no seeds", Claim{Metric: "acc.S4", Variant: "a", Baseline: "b", Expect: "higher"}, Paired{Delta: Describe(nil)}, NoSpread, "no seed has finished both a and b"},
		{"higher, CI above 0", Claim{Metric: "acc.S4", Expect: "higher"}, spread3(1, 0.2), Reproduced, "higher as claimed"},
		{"lower, CI above 0", Claim{Metric: "acc.S4", Expect: "lower"}, spread3(1, 0.2), NotReproduced, "other side"},
		{"lower, CI below 0", Claim{Metric: "acc.S4", Expect: "lower"}, spread3(-1, 0.2), Reproduced, "lower as claimed"},
		{"higher, CI includes 0", Claim{Metric: "acc.S4", Expect: "higher"}, spread3(1, 1), Inconclusive, "the CI includes 0"},
		// TOST edges: the 90% CI's upper bound just inside and just outside 0.5.
		{"TOST: 90% CI just inside", Claim{Metric: "acc.S3", Expect: "equal", Tolerance: 0.5}, spread3(0.5-hw90-1e-3, 0.1), Reproduced, "equivalent within ±0.5"},
		{"TOST: 90% CI just outside", Claim{Metric: "acc.S3", Expect: "equal", Tolerance: 0.5}, spread3(0.5-hw90+1e-3, 0.1), Inconclusive, "not inside ±0.5"},
		{"TOST: CI excludes 0 but inside the tolerance", Claim{Metric: "acc.S3", Expect: "equal", Tolerance: 0.5}, spread3(0.3, 0.05), Reproduced, "equivalent"},
		{"TOST: 95% CI beyond +tolerance", Claim{Metric: "acc.S3", Expect: "equal", Tolerance: 0.5}, spread3(1, 0.1), NotReproduced, "lies beyond ±0.5"},
		{"TOST: 95% CI beyond −tolerance", Claim{Metric: "acc.S3", Expect: "equal", Tolerance: 0.5}, spread3(-1, 0.1), NotReproduced, "lies beyond ±0.5"},
		{"TOST: 95% CI excludes 0, reaches inside the tolerance", Claim{Metric: "acc.S3", Expect: "equal", Tolerance: 0.5}, spread3(0.6, 0.1), Inconclusive, "not inside"},
		// Deterministic claims: exact, not a test.
		{"params: higher holds", Claim{Metric: "params.extra", Expect: "higher"}, pairs(9546, 9546, 9546), HoldsExactly, "is above 0"},
		{"flops: equal holds", Claim{Metric: "flops.inference", Expect: "equal"}, pairs(0, 0), HoldsExactly, "exact"},
		{"flops: equal fails by a hair", Claim{Metric: "flops.inference", Expect: "equal"}, pairs(10, 10), Fails, "is not 0"},
		{"flops: within an explicit tolerance", Claim{Metric: "flops.inference", Expect: "equal", Tolerance: 20}, pairs(10, 10), HoldsExactly, "within ±20"},
		{"params: one seed suffices", Claim{Metric: "params.total", Expect: "lower"}, pairs(5), Fails, "is not below 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := Judge(c.claim, c.p)
			if r.Verdict != c.want {
				t.Errorf("verdict %q, want %q (%s)", r.Verdict, c.want, r.Reason)
			}
			if !strings.Contains(r.Reason, c.reason) {
				t.Errorf("reason %q does not say %q", r.Reason, c.reason)
			}
			if c.want == NoSpread && !math.IsNaN(r.P) {
				t.Errorf("no-spread claim has p = %v, want none", r.P)
			}
		})
	}
	if lo, hi := ex1.Delta.CILow, ex1.Delta.CIHigh; !near(lo, 0.15, 1e-6) || !near(hi, 0.65, 1e-6) {
		t.Fatalf("counter-example 1 CI [%v, %v], want [0.15, 0.65]", lo, hi)
	}
	if p := TOSTP(0.4, ex1.Delta.Std, 3, 0.5); !near(p, 0.113692, 1e-5) {
		t.Errorf("TOST p of counter-example 1 = %v, want 0.113692", p)
	}
}

func TestMagnitude(t *testing.T) {
	up, down := spread3(1, 0.2), spread3(-1, 0.2) // 95% CIs [0.503, 1.497], [−1.497, −0.503]
	for _, c := range []struct {
		p      Paired
		expect string
		delta  float64
		want   Magnitude
	}{
		{up, "higher", 1.2, MagnitudeConsistent},
		{up, "higher", 2, MagnitudeSmaller},
		{up, "higher", 0.4, MagnitudeLarger},
		{down, "lower", -0.4, MagnitudeLarger},
		{down, "lower", -2, MagnitudeSmaller},
		{down, "lower", -1.4, MagnitudeConsistent},
		{spread3(0.3, 0.05), "equal", 0, MagnitudeLarger},
		{spread3(-0.3, 0.05), "equal", 0, MagnitudeLarger},
	} {
		r := Judge(Claim{Metric: "acc.S4", Expect: c.expect, Delta: fptr(c.delta)}, c.p)
		if r.Magnitude != c.want || !strings.Contains(r.Reason, string(c.want)) {
			t.Errorf("Δ %v vs paper %v: magnitude %q (%s), want %q", c.p.Delta.Mean, c.delta, r.Magnitude, r.Reason, c.want)
		}
	}
	if r := Judge(Claim{Metric: "acc.S4", Expect: "higher"}, up); r.Magnitude != "" {
		t.Errorf("a claim without the paper's Δ has magnitude %q", r.Magnitude)
	}
}

// Holm's adjusted p-values, by hand: sorted 0.005, 0.01, 0.03, 0.04 with
// m = 4 give 4·0.005 = 0.02, 3·0.01 = 0.03, 2·0.03 = 0.06, max(0.06,
// 1·0.04) = 0.06; a missing p counts as 1.
func TestHolm(t *testing.T) {
	for _, c := range []struct{ in, want []float64 }{
		{[]float64{0.01, 0.04, 0.03, 0.005}, []float64{0.03, 0.06, 0.06, 0.02}},
		{[]float64{0.01, math.NaN()}, []float64{0.02, 1}},
		{[]float64{0.6, 0.2}, []float64{0.6, 0.4}},
		{[]float64{0.03}, []float64{0.03}},
	} {
		got := Holm(c.in)
		for i := range c.want {
			if !near(got[i], c.want[i], 1e-12) {
				t.Errorf("Holm(%v) = %v, want %v", c.in, got, c.want)
				break
			}
		}
	}
}

// Across tables: a claim significant alone loses it in a family, and
// claims on the same runs count once.
func TestAdjustClaims(t *testing.T) {
	rr := func(variant string, id int64, seed int64, acc float64) RunResult {
		return RunResult{Variant: variant, Seed: seed, RunID: id, TestImages: 1000, Summaries: map[string]float64{"acc.S4": acc}}
	}
	// b − a: 0.8, 1.2, 1.0: t = 1/(0.2/√3) = 8.660, and with 2 df
	// p = 1 − t/√(t²+2) = 0.0131 alone; c − a: 0.5, −0.5, 0.3 (p ≈ 0.6).
	results := []RunResult{rr("a", 1, 1, 60), rr("a", 2, 2, 61), rr("a", 3, 3, 62),
		rr("b", 4, 1, 60.8), rr("b", 5, 2, 62.2), rr("b", 6, 3, 63),
		rr("c", 7, 1, 60.5), rr("c", 8, 2, 60.5), rr("c", 9, 3, 62.3)}
	spec := func(name string, claims ...Claim) Spec {
		return Spec{Name: name, Variants: []string{"a", "b", "c"}, Baseline: "a", Metrics: []string{"acc.S4"}, Claims: claims}
	}
	bBeats := Claim{Text: "b beats a", Metric: "acc.S4", Variant: "b", Expect: "higher"}
	cBeats := Claim{Text: "c beats a", Metric: "acc.S4", Variant: "c", Expect: "higher"}
	t1, err := Build(spec("one", bBeats), results)
	if err != nil {
		t.Fatal(err)
	}
	alone := t1.Claims[0]
	if alone.Verdict != Reproduced || alone.Family != 1 || alone.PAdjusted != alone.P || !near(alone.P, 0.0131, 1e-4) {
		t.Fatalf("alone: %s, family %d, p %v/%v", alone.Verdict, alone.Family, alone.P, alone.PAdjusted)
	}
	// The same claim in a second table, reworded, on the same runs; and an
	// unrelated null claim.
	again := bBeats
	again.Text = "b is better than a"
	t2, err := Build(spec("two", again, cBeats), results)
	if err != nil {
		t.Fatal(err)
	}
	AdjustClaims(t1, t2)
	for _, c := range []ClaimResult{t1.Claims[0], t2.Claims[0], t2.Claims[1]} {
		if c.Family != 2 {
			t.Errorf("%s: family %d, want 2 (b beats a counted once)", c.Text, c.Family)
		}
	}
	if got, want := t1.Claims[0].PAdjusted, 2*alone.P; !near(got, want, 1e-12) || t2.Claims[0].PAdjusted != got {
		t.Errorf("adjusted p %v and %v, want both %v", got, t2.Claims[0].PAdjusted, want)
	}
	if n := CountVerdicts(t1, t2); n.Stochastic != 3 || n.Distinct != 2 {
		t.Errorf("tally %+v: want 3 claims, 2 distinct", n)
	}
	// With ten more claims in the family, 0.0131·11 > 0.05: inconclusive.
	var nulls []Claim
	var rs []RunResult
	rs = append(rs, results...)
	variants := []string{"a", "b", "c"}
	for i := range 10 {
		v := string(rune('d' + i))
		variants = append(variants, v)
		for s := int64(1); s <= 3; s++ {
			rs = append(rs, rr(v, int64(100+10*i)+s, s, 60+float64(s-1)+0.5*float64((int(s)+i)%3-1)))
		}
		nulls = append(nulls, Claim{Text: v + " beats a", Metric: "acc.S4", Variant: v, Expect: "higher"})
	}
	big := Spec{Name: "big", Variants: variants, Baseline: "a", Metrics: []string{"acc.S4"}, Claims: append([]Claim{bBeats}, nulls...)}
	tb, err := Build(big, rs)
	if err != nil {
		t.Fatal(err)
	}
	c := tb.Claims[0]
	if c.Family != 11 || c.Verdict != Inconclusive || !strings.Contains(c.Reason, "not after Holm's adjustment") {
		t.Errorf("in a family of 11: %s, family %d: %s", c.Verdict, c.Family, c.Reason)
	}
}

// Power against values computed independently. R's power.t.test(n = 10,
// delta = 1, sd = 1, type = "one.sample") gives 0.8030962 (its lower tail
// is below 1e-6), and power.t.test(delta = 0.5, power = 0.8, type =
// "paired") needs n = 33.37, so 34 seeds. With no effect, the upper
// tail alone has probability α/2 by definition of the critical value.
func TestPower(t *testing.T) {
	if p := PowerPaired(1, 1, 10, 0.05); !near(p, 0.8030962, 1e-6) {
		t.Errorf("power(n=10, d=1) = %v, want 0.8030962", p)
	}
	if p := PowerPaired(0, 1, 5, 0.05); !near(p, 0.025, 1e-9) {
		t.Errorf("power with no effect = %v, want α/2 = 0.025", p)
	}
	if n := SeedsNeeded(func(n int) float64 { return PowerPaired(0.5, 1, n, 0.05) }); n != 34 {
		t.Errorf("seeds for d = 0.5: %d, want 34", n)
	}
	if n := SeedsNeeded(func(n int) float64 { return PowerPaired(1, 1, n, 0.05) }); n != 10 {
		t.Errorf("seeds for d = 1: %d, want 10", n)
	}
	if n := SeedsNeeded(func(n int) float64 { return PowerPaired(0.01, 1, n, 0.05) }); n != MaxSeedsNeeded+1 {
		t.Errorf("seeds for d = 0.01: %d, want more than %d", n, MaxSeedsNeeded)
	}
	// TOST power against a simulation of the test itself (fixed seed).
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		tol, sd float64
		n       int
	}{{1, 1, 10}, {0.5, 0.4, 5}, {0.5, 1, 3}} {
		const draws = 40000
		hits := 0
		for range draws {
			xs := make([]float64, c.n)
			for i := range xs {
				xs[i] = c.sd * rng.NormFloat64()
			}
			st := Describe(xs)
			if TOSTP(st.Mean, st.Std, c.n, c.tol) < 0.05 {
				hits++
			}
		}
		sim := float64(hits) / draws
		if p := PowerTOST(c.tol, c.sd, c.n, 0.05); math.Abs(p-sim) > 0.01 {
			t.Errorf("TOST power(tol %v, sd %v, n %d) = %v, simulation %v", c.tol, c.sd, c.n, p, sim)
		}
	}
}

// An inconclusive claim says how many seeds would decide it.
func TestSeedsNeededInVerdict(t *testing.T) {
	// Differences 0.1 − 1, 0.1, 0.1 + 1: std exactly 1, CI includes 0.
	p := spread3(0.1, 1)
	r := Judge(Claim{Metric: "acc.S4", Expect: "higher", Delta: fptr(0.5)}, p)
	if r.Verdict != Inconclusive || r.SeedsNeeded != 34 || r.SeedsBasis != "paper's Δ" {
		t.Errorf("paper's Δ 0.5 at std 1: %s, %d seeds (%s), want 34", r.Verdict, r.SeedsNeeded, r.SeedsBasis)
	}
	r = Judge(Claim{Metric: "acc.S4", Expect: "higher"}, spread3(1, 1))
	if r.SeedsNeeded != 10 || r.SeedsBasis != "observed Δ" {
		t.Errorf("observed Δ 1 at std 1: %d seeds (%s), want 10", r.SeedsNeeded, r.SeedsBasis)
	}
	r = Judge(Claim{Metric: "acc.S3", Expect: "equal", Tolerance: 1}, spread3(0.1, 1))
	want := SeedsNeeded(func(n int) float64 { return PowerTOST(1, 1, n, 0.05) })
	if r.SeedsNeeded != want || r.SeedsBasis != "tolerance" || want < 10 {
		t.Errorf("equal within 1 at std 1: %d seeds (%s), want %d", r.SeedsNeeded, r.SeedsBasis, want)
	}
	if r := Judge(Claim{Metric: "acc.S4", Expect: "higher"}, spread3(1, 0.2)); r.SeedsNeeded != 0 {
		t.Errorf("a reproduced claim needs no seeds, got %d", r.SeedsNeeded)
	}
	if r := Judge(Claim{Metric: "acc.S4", Expect: "higher"}, pairs(0.1, 0.1)); r.SeedsNeeded != 0 || !strings.Contains(r.Reason, "unknown until two seeds differ") {
		t.Errorf("no spread: %d seeds, %s", r.SeedsNeeded, r.Reason)
	}
}

// The accuracy resolution comes from the runs' test sets.
func TestResolution(t *testing.T) {
	rr := func(v string, seed int64, acc float64, nTest int) RunResult {
		return RunResult{Variant: v, Seed: seed, TestImages: nTest, Summaries: map[string]float64{"acc.S4": acc, "params.inference": 10}}
	}
	spec := Spec{Name: "r", Variants: []string{"a", "b"}, Baseline: "a", Metrics: []string{"acc.S4", "params.inference"},
		Claims: []Claim{{Text: "equal", Metric: "acc.S4", Variant: "b", Expect: "equal"},
			{Text: "same size", Metric: "params.inference", Variant: "b", Expect: "equal"}}}
	tb, err := Build(spec, []RunResult{rr("a", 1, 50, 32), rr("a", 2, 53.125, 32), rr("b", 1, 53.125, 32), rr("b", 2, 53.125, 32)})
	if err != nil {
		t.Fatal(err)
	}
	c := tb.Claims[0]
	if !near(c.Resolution, 3.125, 1e-12) || !strings.Contains(c.Reason, "resolution 3.125 (1 of 32 test images), coarser than the tolerance") {
		t.Errorf("resolution %v: %s", c.Resolution, c.Reason)
	}
	if !math.IsNaN(tb.Claims[1].Resolution) || tb.Claims[1].Verdict != HoldsExactly {
		t.Errorf("params claim: resolution %v, verdict %s", tb.Claims[1].Resolution, tb.Claims[1].Verdict)
	}
	if !strings.Contains(strings.Join(tb.Notes, "\n"), "accuracy resolution 3.125 points: 1 of 32 test images") {
		t.Errorf("notes %q", tb.Notes)
	}
	n := CountVerdicts(tb)
	if n.Stochastic != 1 || n.Deterministic != 1 || n.Holds != 1 || n.Reproduced != 0 {
		t.Errorf("tally %+v: a count that holds is not a reproduction", n)
	}
}

// SeedNeeds plans the largest need within a spec's limit per variant and
// lists the claims beyond it apart.
func TestSeedNeeds(t *testing.T) {
	tb := &Table{Study: "s", Claims: []ClaimResult{
		{Claim: Claim{Text: "x", Variant: "b", Baseline: "a"}, Paired: spread3(1, 1), SeedsNeeded: 12},
		{Claim: Claim{Text: "y", Variant: "c", Baseline: "a"}, Paired: spread3(1, 1), SeedsNeeded: 40},
		{Claim: Claim{Text: "z", Variant: "c", Baseline: "b"}, Paired: spread3(1, 1), SeedsNeeded: MaxSeedsNeeded + 1},
		{Claim: Claim{Text: "done", Variant: "d", Baseline: "a"}, Paired: spread3(1, 1)},
	}}
	got := SeedNeeds(tb)
	want := map[string][2]int{"b": {12, 1}, "a": {40, 0}, "c": {40, 1}}
	if len(got) != len(want) {
		t.Fatalf("needs %+v", got)
	}
	for _, n := range got {
		w, ok := want[n.Variant]
		if !ok || n.Seeds != w[0] || len(n.Beyond) != w[1] || n.Has != 3 {
			t.Errorf("%s: %d seeds, %d beyond (has %d); want %v", n.Variant, n.Seeds, len(n.Beyond), n.Has, w)
		}
	}
}
