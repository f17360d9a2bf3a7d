package report

import (
	"fmt"
	"math"
	"strings"
)

// Verdict is the outcome of checking one claim at the scale run.
type Verdict string

// The three verdicts.
const (
	Reproduced    Verdict = "reproduced"
	NotReproduced Verdict = "not reproduced"
	Inconclusive  Verdict = "inconclusive"
)

// Default tolerances of "equal" claims (see the package doc).
const (
	DefaultAccTolerance = 1.0  // percentage points, for acc.* and drop.*
	DefaultRelTolerance = 0.01 // fraction of the baseline's mean, for the rest
)

// ClaimResult is a claim with the evidence and its verdict.
type ClaimResult struct {
	Claim
	Paired    Paired
	Tolerance float64 // the tolerance used ("equal" claims only; else 0)
	Verdict   Verdict
	Reason    string // one line: the delta, its CI, and why the verdict follows
}

// Judge gives the verdict of claim c from the paired comparison p of
// c.Variant against c.Baseline on c.Metric (rules in the package doc), with
// the default tolerance for "equal" claims.
func Judge(c Claim, p Paired) ClaimResult { return judge(c, p, 0) }

// judge is Judge with the tolerance of an "equal" claim given (0: default).
func judge(c Claim, p Paired, tol float64) ClaimResult {
	r := ClaimResult{Claim: c, Paired: p, Verdict: Inconclusive}
	n := p.N()
	if n < 2 {
		switch {
		case n == 0:
			r.Reason = fmt.Sprintf("no seed has finished both %s and %s with %s", c.Variant, c.Baseline, c.Metric)
		default:
			r.Reason = fmt.Sprintf("Δ %s over 1 seed: no confidence interval (need ≥ 2 paired seeds)", signed(p.Delta.Mean))
		}
		return r
	}
	lo, hi := p.Delta.CILow, p.Delta.CIHigh
	ci := fmt.Sprintf("Δ %s, 95%% CI [%s, %s], n=%d", signed(p.Delta.Mean), signed(lo), signed(hi), n)
	switch c.Expect {
	case "higher", "lower":
		want := 1.0
		if c.Expect == "lower" {
			want = -1
		}
		switch {
		case lo > 0 || hi < 0:
			side := 1.0
			if hi < 0 {
				side = -1
			}
			if side == want {
				r.Verdict, r.Reason = Reproduced, ci+": excludes 0, "+c.Expect+" as claimed"
			} else {
				r.Verdict, r.Reason = NotReproduced, ci+": excludes 0 on the other side"
			}
		default:
			r.Reason = ci + ": includes 0"
		}
	case "equal":
		if tol == 0 {
			tol = defaultTolerance(c.Metric, p.BaselineMean)
		}
		r.Tolerance = tol
		within := lo >= -tol && hi <= tol
		tols := fmt.Sprintf("±%s", trimFloat(tol))
		switch {
		case within:
			r.Verdict, r.Reason = Reproduced, ci+": within "+tols
		case lo > 0 || hi < 0:
			r.Verdict, r.Reason = NotReproduced, ci+": excludes 0 and reaches beyond "+tols
		default:
			r.Reason = ci + ": includes 0 but wider than " + tols
		}
	default:
		r.Reason = fmt.Sprintf("unknown expectation %q", c.Expect)
	}
	return r
}

// defaultTolerance is the tolerance of an "equal" claim on metric whose
// baseline mean is base.
func defaultTolerance(metric string, base float64) float64 {
	if strings.HasPrefix(metric, "acc.") || strings.HasPrefix(metric, "drop.") {
		return DefaultAccTolerance
	}
	if math.IsNaN(base) {
		return 0
	}
	return DefaultRelTolerance * math.Abs(base)
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
