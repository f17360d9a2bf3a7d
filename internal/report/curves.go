package report

import (
	"math"
	"sort"
)

// Series is one metric of one run over training: accuracies per evaluated
// epoch, losses per logged step, placed in (fractional) epochs when the
// run's updates per epoch are known.
type Series struct {
	Variant string
	Seed    int64
	Metric  string
	// Axis is what X counts: "epoch" or "step" ("": epoch for acc.*, step
	// otherwise).
	Axis   string
	Points []Point
}

// Point is one value of a series at position X (epoch or step).
type Point struct{ X, Y float64 }

// Curve is one metric of one variant aggregated over seeds: at each X that
// any seed recorded, the mean, the sample std (NaN with one seed) and how
// many seeds stand behind it.
type Curve struct {
	Variant string
	Metric  string
	Axis    string // of the series behind it (see Series.Axis)
	X       []float64
	Mean    []float64
	Std     []float64
	N       []int
}

// Curves aggregates series by variant and metric over seeds, matching
// points on equal X. The result is ordered by variant as in variants (others
// after, by name) and then by metric name.
func Curves(series []Series, variants []string) []Curve {
	type key struct{ variant, metric string }
	groups := map[key]map[float64][]float64{}
	axis := map[key]string{}
	for _, s := range series {
		k := key{s.Variant, s.Metric}
		if _, ok := axis[k]; !ok {
			axis[k] = s.Axis
		}
		g := groups[k]
		if g == nil {
			g = map[float64][]float64{}
			groups[k] = g
		}
		for _, p := range s.Points {
			if math.IsNaN(p.Y) || math.IsInf(p.Y, 0) {
				continue
			}
			g[p.X] = append(g[p.X], p.Y)
		}
	}
	order := map[string]int{}
	for i, v := range variants {
		order[v] = i
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		oa, aok := order[a.variant]
		ob, bok := order[b.variant]
		switch {
		case aok != bok:
			return aok
		case aok && oa != ob:
			return oa < ob
		case a.variant != b.variant:
			return a.variant < b.variant
		}
		return a.metric < b.metric
	})
	out := make([]Curve, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		xs := make([]float64, 0, len(g))
		for x := range g {
			xs = append(xs, x)
		}
		sort.Float64s(xs)
		c := Curve{Variant: k.variant, Metric: k.metric, Axis: axis[k]}
		for _, x := range xs {
			st := Describe(g[x])
			c.X = append(c.X, x)
			c.Mean = append(c.Mean, st.Mean)
			c.Std = append(c.Std, st.Std)
			c.N = append(c.N, st.N)
		}
		out = append(out, c)
	}
	return out
}
