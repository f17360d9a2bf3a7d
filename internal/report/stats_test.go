package report

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if math.IsInf(a, 0) || math.IsInf(b, 0) {
		return a == b
	}
	return math.Abs(a-b) <= tol
}

// The expected values below are computed by hand (and checked against
// printed t tables): t(0.975, 1) = 12.706205, t(0.975, 2) = 4.302653,
// t(0.975, 3) = 3.182446, t(0.975, 4) = 2.776445.
func TestTCritical(t *testing.T) {
	for _, c := range []struct {
		df   int
		want float64
	}{{1, 12.706205}, {2, 4.302653}, {3, 3.182446}, {4, 2.776445}, {29, 2.045230}, {0, math.NaN()}} {
		if got := TCritical(c.df); !near(got, c.want, 1e-5) {
			t.Errorf("TCritical(%d) = %v, want %v", c.df, got, c.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		name string
		xs   []float64
		want Stats
	}{
		{"empty", nil, Stats{N: 0, Mean: nan, Std: nan, CILow: nan, CIHigh: nan, Min: nan, Max: nan}},
		{"one", []float64{92.8}, Stats{N: 1, Mean: 92.8, Std: nan, CILow: nan, CIHigh: nan, Min: 92.8, Max: 92.8}},
		// mean 2.5; s² = (2.25+0.25+0.25+2.25)/3 = 5/3, s = 1.2909944;
		// half-width = 3.182446 · 1.2909944 / 2 = 2.0542603.
		{"1..4", []float64{1, 2, 3, 4}, Stats{N: 4, Mean: 2.5, Std: 1.2909944, CILow: 0.4457397, CIHigh: 4.5542603, Min: 1, Max: 4}},
		// mean 91; deviations −1, +1, 0 → s² = 2/2 = 1;
		// half-width = 4.302653 · 1 / √3 = 2.4841377.
		{"three seeds", []float64{90, 92, 91}, Stats{N: 3, Mean: 91, Std: 1, CILow: 88.5158623, CIHigh: 93.4841377, Min: 90, Max: 92}},
		{"no spread", []float64{5, 5}, Stats{N: 2, Mean: 5, Std: 0, CILow: 5, CIHigh: 5, Min: 5, Max: 5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Describe(c.xs)
			if got.N != c.want.N {
				t.Fatalf("N = %d, want %d", got.N, c.want.N)
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{{"Mean", got.Mean, c.want.Mean}, {"Std", got.Std, c.want.Std}, {"CILow", got.CILow, c.want.CILow},
				{"CIHigh", got.CIHigh, c.want.CIHigh}, {"Min", got.Min, c.want.Min}, {"Max", got.Max, c.want.Max}} {
				if !near(f.got, f.want, 1e-6) {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

func TestComparePaired(t *testing.T) {
	for _, c := range []struct {
		name              string
		variant, baseline map[int64]float64
		n, unpaired       int
		mean, lo, hi      float64
		tstat, p          float64
		rel               float64
	}{
		{
			// d = (1, 2, 0): mean 1, s = 1, se = 1/√3; t = √3 = 1.7320508.
			// With 2 df the t CDF is 1/2 + t/(2√(t²+2)), so
			// p = 1 − √3/√5 = 0.2254033. CI 1 ± 4.302653/√3 = 1 ± 2.4841377.
			name:     "three seeds",
			variant:  map[int64]float64{1: 10, 2: 12, 3: 14},
			baseline: map[int64]float64{1: 9, 2: 10, 3: 14},
			n:        3, mean: 1, lo: -1.4841377, hi: 3.4841377, tstat: 1.7320508, p: 0.2254033,
			rel: 100.0 / 11,
		},
		{
			// Seeds 4 (variant only) and 5 (baseline only) are not paired.
			// d = (2, 4): mean 3, s = √2, se = 1; t = 3, 1 df:
			// p = 1 − 2·atan(3)/π = 0.2048328. CI 3 ± 12.706205.
			name:     "unmatched seeds dropped",
			variant:  map[int64]float64{1: 3, 2: 5, 4: 100},
			baseline: map[int64]float64{1: 1, 2: 1, 5: -100},
			n:        2, unpaired: 2, mean: 3, lo: -9.706205, hi: 15.706205, tstat: 3, p: 0.2048328,
			rel: 300,
		},
		{
			// No spread: no test (a p of 0 here was the old bug).
			name:     "constant delta",
			variant:  map[int64]float64{1: 2, 2: 3},
			baseline: map[int64]float64{1: 1, 2: 2},
			n:        2, mean: 1, lo: 1, hi: 1, tstat: math.NaN(), p: math.NaN(), rel: 100 / 1.5,
		},
		{
			name:     "identical",
			variant:  map[int64]float64{1: 2, 2: 3},
			baseline: map[int64]float64{1: 2, 2: 3},
			n:        2, mean: 0, lo: 0, hi: 0, tstat: math.NaN(), p: math.NaN(), rel: 0,
		},
		{
			name:     "one pair",
			variant:  map[int64]float64{7: 2},
			baseline: map[int64]float64{7: 1},
			n:        1, mean: 1, lo: math.NaN(), hi: math.NaN(), tstat: math.NaN(), p: math.NaN(), rel: 100,
		},
		{
			name:     "none",
			variant:  map[int64]float64{1: 2},
			baseline: map[int64]float64{2: 1},
			n:        0, unpaired: 2, mean: math.NaN(), lo: math.NaN(), hi: math.NaN(), tstat: math.NaN(), p: math.NaN(), rel: math.NaN(),
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := ComparePaired(c.variant, c.baseline)
			if p.N() != c.n || p.UnpairedSeeds != c.unpaired {
				t.Fatalf("n = %d, unpaired = %d; want %d, %d", p.N(), p.UnpairedSeeds, c.n, c.unpaired)
			}
			for _, f := range []struct {
				name      string
				got, want float64
			}{{"mean", p.Delta.Mean, c.mean}, {"lo", p.Delta.CILow, c.lo}, {"hi", p.Delta.CIHigh, c.hi},
				{"t", p.T, c.tstat}, {"p", p.P, c.p}, {"rel", p.RelChange(), c.rel}} {
				if !near(f.got, f.want, 1e-6) {
					t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
				}
			}
		})
	}
}

func TestCurves(t *testing.T) {
	series := []Series{
		{Variant: "mksmt", Seed: 1, Metric: "acc.S4", Points: []Point{{1, 50}, {2, 60}}},
		{Variant: "mksmt", Seed: 2, Metric: "acc.S4", Points: []Point{{1, 52}, {2, 64}, {3, 70}}},
		{Variant: "baseline", Seed: 1, Metric: "acc.S4", Points: []Point{{1, 40}, {2, math.NaN()}}},
	}
	got := Curves(series, []string{"baseline", "mksmt"})
	if len(got) != 2 || got[0].Variant != "baseline" || got[1].Variant != "mksmt" {
		t.Fatalf("curves %+v", got)
	}
	b := got[0]
	if len(b.X) != 1 || b.Mean[0] != 40 || b.N[0] != 1 || !math.IsNaN(b.Std[0]) {
		t.Errorf("baseline curve %+v: the NaN point must be dropped", b)
	}
	m := got[1]
	wantX := []float64{1, 2, 3}
	wantMean := []float64{51, 62, 70}
	wantStd := []float64{math.Sqrt2, 2 * math.Sqrt2, math.NaN()}
	wantN := []int{2, 2, 1}
	for i := range wantX {
		if m.X[i] != wantX[i] || !near(m.Mean[i], wantMean[i], 1e-12) || !near(m.Std[i], wantStd[i], 1e-12) || m.N[i] != wantN[i] {
			t.Errorf("point %d: x=%v mean=%v std=%v n=%d; want %v %v %v %d", i, m.X[i], m.Mean[i], m.Std[i], m.N[i],
				wantX[i], wantMean[i], wantStd[i], wantN[i])
		}
	}
}
