package report

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Confidence is the two-sided coverage of every interval report computes.
const Confidence = 0.95

// Stats describes one metric of one variant over its seeds. Std is the
// sample standard deviation (n − 1 in the denominator). CILow/CIHigh are the
// 95 % confidence interval of the mean from Student's t with n − 1 degrees of
// freedom. Fields that cannot be computed from N values are NaN: everything
// when N = 0; Std and the CI when N = 1.
type Stats struct {
	N      int
	Mean   float64
	Std    float64
	CILow  float64
	CIHigh float64
	Min    float64
	Max    float64
}

// Describe computes Stats of xs. NaN values are not allowed in xs (the
// caller filters missing numbers; a run that diverged is not finished).
func Describe(xs []float64) Stats {
	n := len(xs)
	s := Stats{N: n, Mean: math.NaN(), Std: math.NaN(), CILow: math.NaN(), CIHigh: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	if n == 0 {
		return s
	}
	sum := 0.0
	s.Min, s.Max = xs[0], xs[0]
	for _, x := range xs {
		sum += x
		s.Min = math.Min(s.Min, x)
		s.Max = math.Max(s.Max, x)
	}
	s.Mean = sum / float64(n)
	if n < 2 {
		return s
	}
	ss := 0.0
	for _, x := range xs {
		d := x - s.Mean
		ss += d * d
	}
	s.Std = math.Sqrt(ss / float64(n-1))
	hw := TCritical(n-1) * s.Std / math.Sqrt(float64(n))
	s.CILow, s.CIHigh = s.Mean-hw, s.Mean+hw
	return s
}

// TCritical is the two-sided critical value of Student's t with df degrees
// of freedom at the Confidence level (4.303 for df = 2). NaN for df < 1.
func TCritical(df int) float64 {
	if df < 1 {
		return math.NaN()
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(1 - (1-Confidence)/2)
}

// Paired is the paired comparison of a variant against a baseline over the
// seeds both have: Delta describes the per-seed differences variant −
// baseline (Delta.Mean is the mean delta, Delta.CILow/CIHigh its 95 % CI);
// T and P are the paired t statistic and its two-sided p-value; Seeds lists
// the matched seeds in increasing order. With fewer than two pairs T and P
// are NaN. When every difference is identical (zero spread) there is no
// test either: T and P are NaN (a p of 0 from two seeds that happen to
// differ by one test image each would be noise read as certainty).
type Paired struct {
	Delta         Stats
	BaselineMean  float64 // mean of the baseline over the matched seeds
	VariantMean   float64 // mean of the variant over the matched seeds
	T, P          float64
	Seeds         []int64
	UnpairedSeeds int // seeds present in only one of the two
}

// N is the number of matched seeds.
func (p Paired) N() int { return p.Delta.N }

// RelChange is the mean delta in percent of the baseline's mean over the
// matched seeds (Table 7's "% change"); NaN when that mean is 0 or missing.
func (p Paired) RelChange() float64 {
	if p.Delta.N == 0 || p.BaselineMean == 0 || math.IsNaN(p.BaselineMean) {
		return math.NaN()
	}
	return 100 * p.Delta.Mean / math.Abs(p.BaselineMean)
}

// ComparePaired compares variant against baseline, both given by seed.
func ComparePaired(variant, baseline map[int64]float64) Paired {
	var seeds []int64
	unpaired := 0
	for s := range variant {
		if _, ok := baseline[s]; ok {
			seeds = append(seeds, s)
		} else {
			unpaired++
		}
	}
	for s := range baseline {
		if _, ok := variant[s]; !ok {
			unpaired++
		}
	}
	sort.Slice(seeds, func(i, j int) bool { return seeds[i] < seeds[j] })
	d := make([]float64, len(seeds))
	var sv, sb float64
	for i, s := range seeds {
		d[i] = variant[s] - baseline[s]
		sv += variant[s]
		sb += baseline[s]
	}
	p := Paired{Delta: Describe(d), Seeds: seeds, UnpairedSeeds: unpaired, T: math.NaN(), P: math.NaN(),
		BaselineMean: math.NaN(), VariantMean: math.NaN()}
	n := len(seeds)
	if n > 0 {
		p.VariantMean, p.BaselineMean = sv/float64(n), sb/float64(n)
	}
	if n < 2 {
		return p
	}
	if degenerate(p) {
		return p
	}
	se := p.Delta.Std / math.Sqrt(float64(n))
	p.T = p.Delta.Mean / se
	p.P = 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Survival(math.Abs(p.T))
	return p
}
