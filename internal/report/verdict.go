package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Verdict is the outcome of checking one claim at the scale run. The rules
// are in the package doc (and docs/verdicts.md).
type Verdict string

// The verdicts. The first four are for stochastic claims (accuracies:
// they vary with the seed); HoldsExactly and Fails for deterministic ones
// (parameter and FLOP counts), which are not counted among reproductions.
const (
	Reproduced    Verdict = "reproduced"
	NotReproduced Verdict = "not reproduced"
	Inconclusive  Verdict = "inconclusive"
	NoSpread      Verdict = "inconclusive (no spread: add seeds)"
	HoldsExactly  Verdict = "holds exactly"
	Fails         Verdict = "fails"
)

// Inconclusive reports whether v leaves the claim open (either kind).
func (v Verdict) Inconclusive() bool { return v == Inconclusive || v == NoSpread }

// Magnitude compares the runs' effect with the paper's stated effect.
type Magnitude string

// The magnitudes: the 95 % CI of Δ contains the paper's Δ, or lies wholly
// nearer zero than it (smaller), or wholly beyond it (larger).
const (
	MagnitudeConsistent Magnitude = "magnitude consistent"
	MagnitudeSmaller    Magnitude = "smaller"
	MagnitudeLarger     Magnitude = "larger"
)

// Default tolerances of "equal" claims that set none (see the package doc).
const (
	DefaultAccTolerance = 0.5  // percentage points, for acc.* and drop.*
	DefaultRelTolerance = 0.01 // fraction of the baseline's mean, other stochastic metrics
)

// Deterministic reports whether metric does not depend on the seed: the
// parameter and FLOP counts of a config. Claims on them are true or false
// by construction and get HoldsExactly or Fails.
func Deterministic(metric string) bool {
	return strings.HasPrefix(metric, "params.") || strings.HasPrefix(metric, "flops.")
}

// accuracyMetric reports whether metric is in percentage points of test
// accuracy, so that it moves in steps of 100/N_test.
func accuracyMetric(metric string) bool {
	return strings.HasPrefix(metric, "acc.") || strings.HasPrefix(metric, "drop.")
}

// ClaimResult is a claim with the evidence and its verdict.
type ClaimResult struct {
	Claim
	// Paired is the paired comparison behind the verdict. For an
	// interaction claim it compares the two gains: per seed Δ = (Variant −
	// Baseline) − (Variant2 − Baseline2), VariantMean is the mean first
	// gain and BaselineMean the mean second gain.
	Paired        Paired
	Deterministic bool
	Tolerance     float64 // the equivalence margin used ("equal" claims; else 0)
	// Test names the test behind P: "paired t" (two-sided), "TOST" or, for
	// deterministic claims, "exact".
	Test string
	// P is the raw p-value of Test (NaN when no test is possible: fewer than
	// two paired seeds, no spread, deterministic). PAdjusted is Holm's
	// adjustment of P over Family distinct hypotheses; the verdict uses it.
	P, PAdjusted float64
	Family       int
	// CI90 is the 90 % CI of Δ, TOST's interval ("equal" claims; else NaN).
	CI90Low, CI90High float64
	// TestImages is the smallest test set behind the claim's runs (0:
	// unknown); Resolution = 100/TestImages points for accuracy metrics,
	// the smallest step an accuracy can move (NaN otherwise or unknown).
	TestImages int
	Resolution float64
	Magnitude  Magnitude // against Claim.Delta; "" when the claim has none
	// SeedsNeeded is, for an inconclusive stochastic claim, the paired seeds
	// that give TargetPower to detect SeedsEffect (the paper's Δ, the
	// tolerance for "equal", else the observed Δ) at the observed std;
	// MaxSeedsNeeded+1 means more than that; 0 when not applicable.
	SeedsNeeded int
	SeedsEffect float64
	SeedsBasis  string // "paper's Δ", "tolerance" or "observed Δ"
	Verdict     Verdict
	Reason      string // the evidence and why the verdict follows, in one line

	key string // identity of the hypothesis, for Holm's family
}

// Stochastic reports whether the claim is judged statistically (and
// belongs to Holm's family).
func (r ClaimResult) Stochastic() bool { return !r.Deterministic }

// claimInput is what judge needs beyond the claim and its pairs.
type claimInput struct {
	testImages int    // smallest test set of the runs involved (0: unknown)
	key        string // hypothesis identity for Holm's family ("" = unique)
	// level is the mean of the baseline's metric over the paired seeds, the
	// scale of a relative default tolerance; an interaction's Paired holds
	// gains, so Build passes the level apart (NaN: unknown).
	level float64
}

// Judge gives the verdict of claim c from the paired comparison p of
// c.Variant against c.Baseline on c.Metric, as a family of one (no
// multiple-comparison adjustment); rules in the package doc.
//
// For an interaction claim p compares the two gains (see compareGains);
// Judge does not know the baseline's level, so a non-accuracy metric needs
// an explicit tolerance there.
func Judge(c Claim, p Paired) ClaimResult {
	in := claimInput{level: p.BaselineMean}
	if c.Interaction() {
		in.level = math.NaN()
	}
	r := evaluate(c, p, in)
	r.decide(r.P, 1)
	return r
}

// evaluate computes everything about a claim that does not depend on the
// other claims: the test, its raw p, the tolerance, resolution, magnitude.
func evaluate(c Claim, p Paired, in claimInput) ClaimResult {
	r := ClaimResult{Claim: c, Paired: p, Deterministic: Deterministic(c.Metric), P: math.NaN(), PAdjusted: math.NaN(),
		CI90Low: math.NaN(), CI90High: math.NaN(), Resolution: math.NaN(), TestImages: in.testImages, key: in.key}
	if accuracyMetric(c.Metric) && in.testImages > 0 {
		r.Resolution = 100 / float64(in.testImages)
	}
	if c.Expect == "equal" {
		r.Tolerance = c.Tolerance
		if r.Tolerance == 0 {
			r.Tolerance = defaultTolerance(c.Metric, in.level)
		}
	}
	n := p.N()
	switch {
	case r.Deterministic:
		r.Test = "exact"
	case c.Expect == "equal":
		r.Test = "TOST"
		if !degenerate(p) {
			r.P = TOSTP(p.Delta.Mean, p.Delta.Std, n, r.Tolerance)
			hw := studentT(n-1).Quantile(1-Alpha) * p.Delta.Std / math.Sqrt(float64(n))
			r.CI90Low, r.CI90High = p.Delta.Mean-hw, p.Delta.Mean+hw
		}
	default:
		r.Test = "paired t"
		if !degenerate(p) {
			r.P = p.P
		}
	}
	// A magnitude needs an interval: exact for counts, a CI otherwise.
	if c.Delta != nil && n >= 1 && (r.Deterministic || !degenerate(p)) {
		r.Magnitude = magnitude(r, *c.Delta)
	}
	if r.key == "" {
		r.key = fmt.Sprintf("claim|%s|%s|%s|%s|%s|%s|%s", c.Variant, c.Baseline, c.Variant2, c.Baseline2, c.Metric, c.VersusMetric, c.Text)
	}
	// The same runs and the same test are one hypothesis, whatever the
	// claim's wording or direction (two-sided p for higher and lower).
	r.key += "|" + r.Test
	if r.Test == "TOST" {
		r.key += "|" + trimFloat(r.Tolerance)
	}
	return r
}

// degenerate reports whether the paired differences allow no test: fewer
// than two pairs, or no spread (every pair differs by the same amount, as
// happens with few seeds on a small test set, whose accuracies move in
// steps of 100/N_test).
func degenerate(p Paired) bool {
	if p.N() < 2 || math.IsNaN(p.Delta.Std) {
		return true
	}
	return p.Delta.Std <= 1e-12*math.Max(1, math.Abs(p.Delta.Mean))
}

// magnitude places the paper's effect d against the runs' 95 % CI (or, for
// a deterministic claim or a single seed, against the exact Δ).
func magnitude(r ClaimResult, d float64) Magnitude {
	p := r.Paired
	lo, hi := p.Delta.CILow, p.Delta.CIHigh
	if r.Deterministic {
		lo, hi = p.Delta.Min-r.Tolerance, p.Delta.Max+r.Tolerance
	}
	switch {
	case lo <= d && d <= hi:
		return MagnitudeConsistent
	case d > 0 && hi < d, d < 0 && lo > d:
		return MagnitudeSmaller
	}
	return MagnitudeLarger
}

// decide sets the verdict, the seeds needed and the reason from the
// adjusted p-value padj of a family of m hypotheses.
func (r *ClaimResult) decide(padj float64, m int) {
	r.PAdjusted, r.Family = padj, m
	r.SeedsNeeded, r.SeedsEffect, r.SeedsBasis = 0, math.NaN(), ""
	c, p := r.Claim, r.Paired
	n := p.N()
	var why []string
	switch {
	case r.Deterministic:
		r.Verdict, why = r.decideExact()
	case n == 0:
		r.Verdict = NoSpread
		why = []string{"no seed has finished " + r.runsText()}
	case n == 1:
		r.Verdict = NoSpread
		why = []string{fmt.Sprintf("Δ %s over 1 seed: no confidence interval (need ≥ 2 paired seeds)", signed(p.Delta.Mean))}
	case degenerate(p):
		r.Verdict = NoSpread
		why = []string{fmt.Sprintf("Δ %s in each of %d seeds: no spread, so no confidence interval or p-value", signed(p.Delta.Mean), n)}
	case c.Expect == "equal":
		r.Verdict, why = r.decideEqual()
	case c.Expect == "higher" || c.Expect == "lower":
		r.Verdict, why = r.decideDirection()
	default:
		r.Verdict = Inconclusive
		why = []string{fmt.Sprintf("unknown expectation %q", c.Expect)}
	}
	if c.Interaction() && n > 0 {
		why = append([]string{r.gainsText()}, why...)
	}
	if r.Magnitude != "" {
		why = append(why, fmt.Sprintf("paper's Δ %s: %s", signed(*c.Delta), r.Magnitude))
	}
	if r.Stochastic() && r.Verdict.Inconclusive() {
		why = append(why, r.planSeeds())
	}
	if !math.IsNaN(r.Resolution) {
		s := fmt.Sprintf("resolution %s (1 of %d test images)", trimFloat(r.Resolution), r.TestImages)
		if c.Expect == "equal" && r.Resolution > r.Tolerance {
			s += ", coarser than the tolerance"
		}
		why = append(why, s)
	}
	r.Reason = strings.Join(why, "; ")
}

// runsText names the runs a claim pairs: "both a and b with acc.S4", or
// all four variants of an interaction.
func (r *ClaimResult) runsText() string {
	if r.Interaction() {
		return fmt.Sprintf("all of %s, %s, %s and %s with %s", r.Variant, r.Baseline, r.Variant2, r.Baseline2, r.Metric)
	}
	return fmt.Sprintf("both %s and %s with %s", r.Variant, r.Baseline, r.Metric)
}

// gainsText is an interaction's two mean gains over its paired seeds:
// "gains: a − b +1.2, c − d +0.9 (Δ is their difference)".
func (r *ClaimResult) gainsText() string {
	p := r.Paired
	return fmt.Sprintf("gains: %s − %s %s, %s − %s %s (Δ is their difference)", r.Variant, r.Baseline, signed(p.VariantMean),
		r.Variant2, r.Baseline2, signed(p.BaselineMean))
}

// ciText is "Δ +0.4, 95% CI [+0.15, +0.65], n=3".
func (r *ClaimResult) ciText() string {
	p := r.Paired
	return fmt.Sprintf("Δ %s, 95%% CI [%s, %s], n=%d", signed(p.Delta.Mean), signed(p.Delta.CILow), signed(p.Delta.CIHigh), p.N())
}

// pPair is "paired t p=0.012, Holm-adjusted p=0.06 (family of 5)".
func (r *ClaimResult) pPair() string {
	s := r.Test + " " + pText(r.P)
	if r.Family > 1 {
		s += fmt.Sprintf(", Holm-adjusted %s (family of %d)", pText(r.PAdjusted), r.Family)
	}
	return s
}

// decideDirection: reproduced when the adjusted two-sided p is below α
// and Δ lies on the claimed side; not reproduced when it is below α on the
// other side; else inconclusive. For a family of one this is "the 95 % CI
// excludes 0".
func (r *ClaimResult) decideDirection() (Verdict, []string) {
	want := 1.0
	if r.Expect == "lower" {
		want = -1
	}
	side := math.Copysign(1, r.Paired.Delta.Mean)
	why := []string{r.ciText(), r.pPair()}
	switch {
	case r.PAdjusted < Alpha && side == want:
		return Reproduced, append(why, r.Expect+" as claimed")
	case r.PAdjusted < Alpha:
		return NotReproduced, append(why, "significant on the other side")
	case r.P < Alpha:
		return Inconclusive, append(why, "significant alone, not after Holm's adjustment")
	}
	return Inconclusive, append(why, "the CI includes 0")
}

// decideEqual is TOST: reproduced when the adjusted TOST p is below α (for
// a family of one: the 90 % CI lies inside ±tolerance); not reproduced when
// the 95 % CI lies wholly beyond +tolerance or −tolerance; else
// inconclusive.
func (r *ClaimResult) decideEqual() (Verdict, []string) {
	p, tol := r.Paired, r.Tolerance
	tols := "±" + trimFloat(tol)
	why := []string{fmt.Sprintf("Δ %s, 90%% CI [%s, %s], 95%% CI [%s, %s], n=%d", signed(p.Delta.Mean),
		signed(r.CI90Low), signed(r.CI90High), signed(p.Delta.CILow), signed(p.Delta.CIHigh), p.N()), r.pPair()}
	switch {
	case r.PAdjusted < Alpha:
		return Reproduced, append(why, "equivalent within "+tols)
	case p.Delta.CILow > tol || p.Delta.CIHigh < -tol:
		return NotReproduced, append(why, "the 95% CI lies beyond "+tols)
	case r.P < Alpha:
		return Inconclusive, append(why, "equivalent within "+tols+" alone, not after Holm's adjustment")
	}
	return Inconclusive, append(why, "the 90% CI is not inside "+tols)
}

// decideExact judges a deterministic claim on every paired seed.
func (r *ClaimResult) decideExact() (Verdict, []string) {
	p := r.Paired
	if p.N() == 0 {
		return Inconclusive, []string{"no seed has finished " + r.runsText()}
	}
	lo, hi := p.Delta.Min, p.Delta.Max
	d := "Δ " + signed(lo)
	if hi != lo {
		d = fmt.Sprintf("Δ from %s to %s (varies with the seed, though %s should not)", signed(lo), signed(hi), r.Metric)
	}
	d += fmt.Sprintf(" in %d seed(s), exact", p.N())
	var ok bool
	var rule string
	switch r.Expect {
	case "higher":
		ok, rule = lo > 0, "above 0"
	case "lower":
		ok, rule = hi < 0, "below 0"
	case "equal":
		ok = math.Max(math.Abs(lo), math.Abs(hi)) <= r.Tolerance
		rule = "0"
		if r.Tolerance > 0 {
			rule = "within ±" + trimFloat(r.Tolerance)
		}
	}
	if ok {
		return HoldsExactly, []string{d, "is " + rule}
	}
	return Fails, []string{d, "is not " + rule}
}

// planSeeds sets SeedsNeeded for an inconclusive stochastic claim and
// says so. Power is computed at α/m, Holm's strictest step, so the plan
// holds whatever the other claims' p-values turn out to be.
func (r *ClaimResult) planSeeds() string {
	p := r.Paired
	if degenerate(p) {
		return "seeds needed: unknown until two seeds differ (no spread to plan from)"
	}
	sd := p.Delta.Std
	alpha := Alpha / float64(max(r.Family, 1))
	switch {
	case r.Expect == "equal":
		r.SeedsEffect, r.SeedsBasis = r.Tolerance, "tolerance"
	case r.Delta != nil && *r.Delta != 0:
		r.SeedsEffect, r.SeedsBasis = math.Abs(*r.Delta), "paper's Δ"
	default:
		r.SeedsEffect, r.SeedsBasis = math.Abs(p.Delta.Mean), "observed Δ"
	}
	if !(r.SeedsEffect > 0) {
		return "seeds needed: none to plan for a Δ of 0"
	}
	if r.Expect == "equal" {
		r.SeedsNeeded = SeedsNeeded(func(n int) float64 { return PowerTOST(r.SeedsEffect, sd, n, alpha) })
	} else {
		r.SeedsNeeded = SeedsNeeded(func(n int) float64 { return PowerPaired(r.SeedsEffect, sd, n, alpha) })
	}
	what := fmt.Sprintf("to detect %s (%s) at std %s, α=%s", trimFloat(r.SeedsEffect), r.SeedsBasis, trimFloat(sd), trimFloat(alpha))
	if r.Expect == "equal" {
		what = fmt.Sprintf("to show equivalence within ±%s if Δ is 0, at std %s, α=%s per side", trimFloat(r.SeedsEffect), trimFloat(sd), trimFloat(alpha))
	}
	s := fmt.Sprintf("%d%% power needs %s seeds %s", int(TargetPower*100), seedsText(r.SeedsNeeded), what)
	if r.SeedsNeeded <= p.N() {
		s += " (it has them: the observed Δ, not the spread, keeps it open)"
	}
	return s
}

// seedsText prints a seeds-needed count ("—" for none, ">1000" past the cap).
func seedsText(n int) string {
	switch {
	case n <= 0:
		return "—"
	case n > MaxSeedsNeeded:
		return fmt.Sprintf(">%d", MaxSeedsNeeded)
	}
	return fmt.Sprint(n)
}

// defaultTolerance is the tolerance of an "equal" claim on metric whose
// baseline mean is base: 0.5 points for accuracies, exact (0) for
// deterministic counts, 1 % of the baseline's mean otherwise.
func defaultTolerance(metric string, base float64) float64 {
	switch {
	case accuracyMetric(metric):
		return DefaultAccTolerance
	case Deterministic(metric), math.IsNaN(base):
		return 0
	}
	return DefaultRelTolerance * math.Abs(base)
}

// AdjustClaims applies Holm's method to the stochastic claims of the
// tables together and re-decides their verdicts: the family is every
// distinct hypothesis among them, where claims that test the same runs
// with the same test (e.g. "two-step beats the baseline" in tables 7 and
// 9, which share their runs) are one hypothesis, counted once. `workbench
// reproduce` adjusts across all its tables; Build adjusts within one.
func AdjustClaims(tables ...*Table) {
	type group struct {
		p       float64
		members []*ClaimResult
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, t := range tables {
		for i := range t.Claims {
			r := &t.Claims[i]
			if !r.Stochastic() {
				r.decide(math.NaN(), 0)
				continue
			}
			g := byKey[r.key]
			if g == nil {
				g = &group{p: r.P}
				byKey[r.key] = g
				groups = append(groups, g)
			}
			g.members = append(g.members, r)
		}
	}
	ps := make([]float64, len(groups))
	for i, g := range groups {
		ps[i] = g.p
	}
	adj := Holm(ps)
	for i, g := range groups {
		for _, r := range g.members {
			a := adj[i]
			if math.IsNaN(r.P) {
				a = math.NaN() // counted as p = 1 in the family, but no test to show
			}
			r.decide(a, len(groups))
		}
	}
}

// signed prints x with a sign and 3 significant decimals at most.
func signed(x float64) string {
	if math.IsNaN(x) {
		return "n/a"
	}
	s := trimFloat(x)
	if x >= 0 && !strings.HasPrefix(s, "+") {
		s = "+" + s
	}
	return s
}

// trimFloat prints x compactly: up to 3 decimals for |x| < 1000, fewer
// digits for large numbers, without trailing zeros.
func trimFloat(x float64) string {
	if math.IsInf(x, 0) {
		if x > 0 {
			return "+Inf"
		}
		return "-Inf"
	}
	a := math.Abs(x)
	var s string
	switch {
	case a >= 1e6:
		s = fmt.Sprintf("%.4g", x)
	case a >= 100:
		s = fmt.Sprintf("%.1f", x)
	default:
		s = fmt.Sprintf("%.3f", x)
	}
	if strings.Contains(s, ".") && !strings.ContainsAny(s, "eE") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// Tally counts the verdicts of claims. Deterministic claims are counted
// apart: a count that holds by construction is not a reproduction.
type Tally struct {
	Stochastic, Reproduced, NotReproduced, Inconclusive, NoSpread int
	Distinct                                                      int // distinct stochastic hypotheses (Holm's family)
	Deterministic, Holds, Fails                                   int
}

// CountVerdicts tallies the claims of the tables.
func CountVerdicts(tables ...*Table) Tally {
	var n Tally
	keys := map[string]bool{}
	for _, t := range tables {
		for _, c := range t.Claims {
			if c.Deterministic {
				n.Deterministic++
				switch c.Verdict {
				case HoldsExactly:
					n.Holds++
				case Fails:
					n.Fails++
				}
				continue
			}
			n.Stochastic++
			keys[c.key] = true
			switch c.Verdict {
			case Reproduced:
				n.Reproduced++
			case NotReproduced:
				n.NotReproduced++
			case NoSpread:
				n.NoSpread++
			default:
				n.Inconclusive++
			}
		}
	}
	n.Distinct = len(keys)
	return n
}

func (t *Table) tally() Tally { return CountVerdicts(t) }

// String is one line: "verdicts: 3 reproduced, 1 not reproduced, 4
// inconclusive (2 with no spread) of 8 claims (7 distinct, Holm-adjusted);
// 2 deterministic: 2 hold exactly, 0 fail".
func (t Tally) String() string {
	s := fmt.Sprintf("verdicts: %d reproduced, %d not reproduced, %d inconclusive", t.Reproduced, t.NotReproduced, t.Inconclusive+t.NoSpread)
	if t.NoSpread > 0 {
		s += fmt.Sprintf(" (%d with no spread)", t.NoSpread)
	}
	s += fmt.Sprintf(" of %d stochastic claim(s)", t.Stochastic)
	if t.Distinct != t.Stochastic {
		s += fmt.Sprintf(" (%d distinct: claims on the same runs count once)", t.Distinct)
	}
	if t.Deterministic > 0 {
		s += fmt.Sprintf("; %d deterministic, not counted as reproductions: %d hold exactly, %d fail", t.Deterministic, t.Holds, t.Fails)
	}
	return s
}

// SeedNeed is what the inconclusive claims of one study ask of one variant:
// Seeds paired seeds (the most any of Claims needs, within MaxSeedsNeeded;
// 0 when every one needs more), and Beyond, the claims that need more
// seeds than a spec may list.
type SeedNeed struct {
	Study, Variant string
	Has            int // paired seeds finished now (the fewest over its claims)
	Seeds          int
	Claims         []string
	Beyond         []string
}

// SeedNeeds lists, per study and variant in table order, the seeds its
// inconclusive stochastic claims need (both sides of each claim need them,
// paired; all four variants of an interaction). Claims whose need is unknown (no spread) are left out.
func SeedNeeds(tables ...*Table) []SeedNeed {
	var out []SeedNeed
	for _, t := range tables {
		idx := map[string]int{}
		for _, c := range t.Claims {
			if c.SeedsNeeded <= 0 {
				continue
			}
			vs := []string{c.Variant, c.Baseline}
			if c.Interaction() {
				vs = append(vs, c.Variant2, c.Baseline2)
			}
			for i, v := range vs {
				if slices.Contains(vs[:i], v) {
					continue // (a − b) − (c − b): b once
				}
				i, ok := idx[v]
				if !ok {
					i = len(out)
					idx[v] = i
					out = append(out, SeedNeed{Study: t.Study, Variant: v, Has: c.Paired.N()})
				}
				n := &out[i]
				n.Has = min(n.Has, c.Paired.N())
				if c.SeedsNeeded > MaxSeedsNeeded {
					n.Beyond = append(n.Beyond, c.Text)
					continue
				}
				n.Seeds = max(n.Seeds, c.SeedsNeeded)
				n.Claims = append(n.Claims, c.Text)
			}
		}
	}
	return out
}
