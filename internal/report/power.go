package report

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/integrate/quad"
	"gonum.org/v1/gonum/stat/distuv"
)

// Alpha is the significance level of every verdict (two-sided 5 %, so
// that a single claim's rule is "the 95 % CI excludes 0"; TOST uses 5 % on
// each side, i.e. the 90 % CI).
const Alpha = 0.05

// TargetPower is the power that SeedsNeeded plans for.
const TargetPower = 0.8

// MaxSeedsNeeded caps the seeds-needed search: a spec allows at most this
// many seeds (experiment.MaxSeeds), so a larger need is reported as "more".
const MaxSeedsNeeded = 1000

// studentT is Student's t with df degrees of freedom.
func studentT(df int) distuv.StudentsT {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}
}

// TOSTP is the p-value of the two one-sided tests for equivalence within
// ±tol of a paired mean difference mean with standard deviation sd over n
// pairs: max(P(T ≥ (mean+tol)/se), P(T ≤ (mean−tol)/se)), T ~ t(n−1).
// p < α exactly when the 1−2α CI (the 90 % CI) lies inside (−tol, +tol).
// NaN when n < 2 or sd is not positive (no test is possible).
func TOSTP(mean, sd float64, n int, tol float64) float64 {
	if n < 2 || !(sd > 0) || math.IsNaN(mean) {
		return math.NaN()
	}
	se := sd / math.Sqrt(float64(n))
	t := studentT(n - 1)
	pLow := t.Survival((mean + tol) / se) // H0: Δ ≤ −tol
	pHigh := t.CDF((mean - tol) / se)     // H0: Δ ≥ +tol
	return math.Max(pLow, pHigh)
}

// PowerPaired is the power of the two-sided paired t-test at level alpha,
// with n pairs, to come out significant on the side of a true mean
// difference effect (the verdict "reproduced" needs that side) when the
// differences have standard deviation sd. It is exact: 1 − F(c) of the
// noncentral t with n − 1 degrees of freedom and noncentrality
// |effect|·√n/sd (gonum's distuv.NoncentralT, Lenth's AS 243), c the
// two-sided critical value.
func PowerPaired(effect, sd float64, n int, alpha float64) float64 {
	if n < 2 || !(sd > 0) {
		return math.NaN()
	}
	c := studentT(n - 1).Quantile(1 - alpha/2)
	nct := distuv.NoncentralT{Nu: float64(n - 1), Mu: math.Abs(effect) * math.Sqrt(float64(n)) / sd}
	return 1 - nct.CDF(c)
}

// PowerTOST is the power of TOST at level alpha (per side) with n pairs to
// show equivalence within ±tol when the true difference is 0 and the
// differences have standard deviation sd. With S the sample std,
// V = (n−1)S²/sd² ~ χ²(n−1) and the mean ~ N(0, sd²/n) independent, TOST
// succeeds when |mean| < tol − c·S/√n, so
//
//	power = E_V[ max(0, 2Φ(tol·√n/sd − c·√(V/(n−1))) − 1) ],
//
// integrated over the χ² quantile u ∈ (0, 1) by 200-point Gauss–Legendre
// (a bounded, smooth integrand up to where it reaches 0).
func PowerTOST(tol, sd float64, n int, alpha float64) float64 {
	if n < 2 || !(sd > 0) || !(tol > 0) {
		return math.NaN()
	}
	df := float64(n - 1)
	c := studentT(n - 1).Quantile(1 - alpha)
	a := tol * math.Sqrt(float64(n)) / sd
	chi := distuv.ChiSquared{K: df}
	// The integrand is 0 once c·√(V/df) ≥ a, i.e. V ≥ df·(a/c)².
	uMax := chi.CDF(df * (a / c) * (a / c))
	if uMax <= 0 {
		return 0
	}
	g := func(u float64) float64 {
		v := chi.Quantile(u)
		return math.Max(0, 2*distuv.UnitNormal.CDF(a-c*math.Sqrt(v/df))-1)
	}
	return quad.Fixed(g, 0, uMax, 200, nil, 0)
}

// SeedsNeeded is the smallest number of paired seeds n ≥ 2 whose power
// (power(n)) reaches TargetPower, or MaxSeedsNeeded+1 when even
// MaxSeedsNeeded seeds do not; 0 when power is undefined.
func SeedsNeeded(power func(n int) float64) int {
	if p := power(2); math.IsNaN(p) {
		return 0
	}
	// Power rises with n: a doubling search, then bisection.
	lo, hi := 1, 2
	for power(hi) < TargetPower {
		if hi >= MaxSeedsNeeded {
			return MaxSeedsNeeded + 1
		}
		lo, hi = hi, min(2*hi, MaxSeedsNeeded)
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if power(mid) >= TargetPower {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// Holm adjusts p-values for multiple comparisons by Holm's step-down
// method: with the m p-values sorted, p(1) ≤ … ≤ p(m), the adjusted
// p̃(i) = max over j ≤ i of min(1, (m − j + 1)·p(j)). It controls the
// family-wise error rate at α for any dependence between the tests.
// NaN entries (no test possible) count as 1, so the family's size does
// not shrink when a claim lacks data. The result is in the input's order.
func Holm(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	val := make([]float64, m)
	for i, p := range ps {
		idx[i] = i
		if math.IsNaN(p) {
			p = 1
		}
		val[i] = p
	}
	sort.SliceStable(idx, func(a, b int) bool { return val[idx[a]] < val[idx[b]] })
	out := make([]float64, m)
	run := 0.0
	for j, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-j)*val[i]))
		out[i] = run
	}
	return out
}
