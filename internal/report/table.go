package report

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Table is the paper-style comparison of one study, ready to render.
type Table struct {
	Study    string
	Title    string
	Kind     string // Spec.Table
	Baseline string
	Seeds    []int64 // seeds the study asks for
	Columns  []Column
	Rows     []Row
	// Deltas compare every other variant with the baseline, per column
	// (empty without a baseline).
	Deltas []DeltaRow
	Claims []ClaimResult
	// PaperDiffs are the paper's figures that state a difference (Table 7's
	// "+1.1 %", Table 9's "S4 0.4 lower"), each beside the same difference
	// computed from the runs.
	PaperDiffs []PaperDiff
	// Notes say what is missing or unusual (incomplete seeds, metrics that
	// no run recorded), in the order found.
	Notes []string
	// Sweep is copied from the spec (Figure 3).
	Sweep *Sweep
	// Profile is the profile whose runs the table shows ("" when the table
	// was built from results directly; see StudyTable).
	Profile string
	// Headline says, before the table, what a reader must know to read it:
	// which profile was picked and why, or why every cell is empty.
	Headline []string
}

// Column is one metric of the table.
type Column struct {
	Metric string
	Header string // short header, e.g. "S4 vflip"
	Unit   Unit   // how values are scaled and printed
	// HasPaper is set when some row has a paper figure for this column; the
	// renderers then print a "paper" column beside it.
	HasPaper bool
}

// Row is one variant.
type Row struct {
	Variant string
	X       float64 // position on the sweep axis; NaN without a sweep
	Cells   []Cell  // one per column
}

// Cell is one variant × metric.
type Cell struct {
	Stats
	Seeds   []int64           // seeds behind the cell, increasing
	BySeed  map[int64]float64 // the values behind the cell
	Paper   *PaperFigure      // the paper's figure for this cell, if any
	Missing []int64           // seeds the spec asks for that have no value
}

// PaperDiff is a difference the paper states and the same difference in
// the runs: Metric of Variant minus VersusMetric of Versus, paired over
// matching seeds (with the same variant on both sides, the pairs are the two
// metrics of each run).
type PaperDiff struct {
	Figure PaperFigure
	Paired Paired
}

// Ours is the runs' value comparable with Figure.Value: the mean delta, or
// the relative change in percent when the figure is a percentage.
func (d PaperDiff) Ours() float64 {
	if d.Figure.Percent {
		return d.Paired.RelChange()
	}
	return d.Paired.Delta.Mean
}

// DeltaRow is one variant compared with the baseline.
type DeltaRow struct {
	Variant string
	Cells   []Paired // one per column
}

// Build aggregates results into the table of spec. Results of variants the
// spec does not list are ignored (and noted); a variant without results gets
// empty cells (N = 0).
func Build(spec Spec, results []RunResult) (*Table, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	metrics := spec.metrics()
	t := &Table{Study: spec.Name, Title: spec.Title, Kind: spec.Table, Baseline: spec.Baseline,
		Seeds: append([]int64(nil), spec.Seeds...), Sweep: spec.Sweep}

	// The keys to compute per run: columns, claims and paper figures.
	keys := map[string]bool{}
	for _, m := range metrics {
		keys[m] = true
	}
	for _, c := range spec.Claims {
		keys[c.Metric] = true
		if c.VersusMetric != "" {
			keys[c.VersusMetric] = true
		}
	}
	for _, p := range spec.Paper {
		keys[p.Metric] = true
		if p.VersusMetric != "" {
			keys[p.VersusMetric] = true
		}
	}

	// variant → metric → seed → value
	byVariant := map[string]map[string]map[int64]float64{}
	known := map[string]bool{}
	for _, v := range spec.Variants {
		known[v] = true
		byVariant[v] = map[string]map[int64]float64{}
	}
	unknown := map[string]int{}
	seen := map[string]map[int64]bool{}
	runOf := map[string]map[int64]RunResult{} // variant → seed → run
	for _, r := range results {
		if !known[r.Variant] {
			unknown[r.Variant]++
			continue
		}
		if seen[r.Variant] == nil {
			seen[r.Variant] = map[int64]bool{}
			runOf[r.Variant] = map[int64]RunResult{}
		}
		if seen[r.Variant][r.Seed] {
			return nil, fmt.Errorf("study %s: two finished runs for variant %q seed %d", spec.Name, r.Variant, r.Seed)
		}
		seen[r.Variant][r.Seed] = true
		runOf[r.Variant][r.Seed] = r
		for k := range keys {
			x, ok := metricValue(k, r.Summaries)
			if !ok {
				continue
			}
			m := byVariant[r.Variant][k]
			if m == nil {
				m = map[int64]float64{}
				byVariant[r.Variant][k] = m
			}
			m[r.Seed] = x
		}
	}

	paper := map[[2]string]*PaperFigure{}
	for i := range spec.Paper {
		p := spec.Paper[i]
		if p.IsDifference() {
			versus, vm := subtrahend(p)
			t.PaperDiffs = append(t.PaperDiffs, PaperDiff{Figure: p,
				Paired: ComparePaired(byVariant[p.Variant][p.Metric], byVariant[versus][vm])})
			continue
		}
		paper[[2]string{p.Variant, p.Metric}] = &p
	}
	for _, m := range metrics {
		col := Column{Metric: m, Header: Header(m)}
		var values []float64
		for _, v := range spec.Variants {
			for _, x := range byVariant[v][m] {
				values = append(values, x)
			}
			if paper[[2]string{v, m}] != nil {
				col.HasPaper = true
			}
		}
		col.Unit = UnitFor(m, values)
		if len(values) == 0 && len(results) > 0 {
			t.Notes = append(t.Notes, fmt.Sprintf("no finished run recorded %s", m))
		}
		t.Columns = append(t.Columns, col)
	}

	for _, v := range spec.Variants {
		row := Row{Variant: v, X: math.NaN()}
		if spec.Sweep != nil {
			if x, ok := spec.Sweep.X[v]; ok {
				row.X = x
			}
		}
		for _, m := range metrics {
			bySeed := byVariant[v][m]
			c := Cell{BySeed: bySeed, Paper: paper[[2]string{v, m}]}
			c.Seeds = sortedSeeds(bySeed)
			xs := make([]float64, len(c.Seeds))
			for i, s := range c.Seeds {
				xs[i] = bySeed[s]
			}
			c.Stats = Describe(xs)
			for _, s := range spec.Seeds {
				if _, ok := bySeed[s]; !ok {
					c.Missing = append(c.Missing, s)
				}
			}
			row.Cells = append(row.Cells, c)
		}
		t.Rows = append(t.Rows, row)
		if n := len(seen[v]); len(spec.Seeds) > 0 && n < len(spec.Seeds) {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: %d of %d seeds finished", v, n, len(spec.Seeds)))
		}
	}
	names := make([]string, 0, len(unknown))
	for v := range unknown {
		names = append(names, v)
	}
	sort.Strings(names)
	for _, v := range names {
		t.Notes = append(t.Notes, fmt.Sprintf("ignored %d run(s) of variant %q, which the study does not list", unknown[v], v))
	}

	if spec.Baseline != "" {
		for _, v := range spec.Variants {
			if v == spec.Baseline {
				continue
			}
			dr := DeltaRow{Variant: v}
			for _, m := range metrics {
				dr.Cells = append(dr.Cells, ComparePaired(byVariant[v][m], byVariant[spec.Baseline][m]))
			}
			t.Deltas = append(t.Deltas, dr)
		}
	}

	for _, c := range spec.Claims {
		b := claimBaseline(c, spec)
		vm := c.VersusMetric
		if vm == "" {
			vm = c.Metric
		}
		c.Baseline = b
		var p Paired
		var level float64
		if c.Interaction() {
			p, level = compareGains(c, vm, byVariant)
		} else {
			p = ComparePaired(byVariant[c.Variant][c.Metric], byVariant[b][vm])
			level = p.BaselineMean
		}
		in := claimRuns(c, p, runOf)
		in.level = level
		t.Claims = append(t.Claims, evaluate(c, p, in))
	}
	if n := commonTestImages(results); n > 0 && hasAccuracy(t) {
		t.Notes = append(t.Notes, fmt.Sprintf("accuracy resolution %s points: 1 of %d test images", trimFloat(100/float64(n)), n))
	}
	AdjustClaims(t)
	return t, nil
}

// gain is Metric of variant − vm of baseline per seed both have.
func gain(variant, baseline map[int64]float64) map[int64]float64 {
	g := map[int64]float64{}
	for s, x := range variant {
		if y, ok := baseline[s]; ok {
			g[s] = x - y
		}
	}
	return g
}

// compareGains is the paired comparison of an interaction claim: per seed
// that all four variants finished, Δ = (Variant − Baseline) − (Variant2 −
// Baseline2), so Paired's VariantMean and BaselineMean are the two mean
// gains. level is the mean of Baseline's vm over those seeds (the scale of
// a relative default tolerance). A seed that some but not all four have is
// unpaired.
func compareGains(c Claim, vm string, by map[string]map[string]map[int64]float64) (p Paired, level float64) {
	b := by[c.Baseline][vm]
	p = ComparePaired(gain(by[c.Variant][c.Metric], b), gain(by[c.Variant2][c.Metric], by[c.Baseline2][vm]))
	level = math.NaN()
	if n := len(p.Seeds); n > 0 {
		sum := 0.0
		for _, s := range p.Seeds {
			sum += b[s]
		}
		level = sum / float64(n)
	}
	seen := map[int64]bool{}
	for _, m := range []map[int64]float64{by[c.Variant][c.Metric], b, by[c.Variant2][c.Metric], by[c.Baseline2][vm]} {
		for s := range m {
			seen[s] = true
		}
	}
	p.UnpairedSeeds = len(seen) - len(p.Seeds)
	return p, level
}

// claimRuns finds the test set behind a claim's pairs and, when every run
// is known by id, the identity of its hypothesis: metric, test and the
// pairs of runs (the quadruples, for an interaction), so that the same
// comparison in two studies is one.
func claimRuns(c Claim, p Paired, runOf map[string]map[int64]RunResult) claimInput {
	in := claimInput{level: math.NaN()}
	var ids, ids2 []string
	allIDs := len(p.Seeds) > 0
	for _, s := range p.Seeds {
		v, b := runOf[c.Variant][s], runOf[c.Baseline][s]
		runs := []RunResult{v, b}
		var v2, b2 RunResult
		if c.Interaction() {
			v2, b2 = runOf[c.Variant2][s], runOf[c.Baseline2][s]
			runs = append(runs, v2, b2)
		}
		for _, r := range runs {
			if r.TestImages > 0 && (in.testImages == 0 || r.TestImages < in.testImages) {
				in.testImages = r.TestImages
			}
			if r.TestImages <= 0 {
				in.testImages = -1 // one run of unknown size: unknown
			}
			if r.RunID == 0 {
				allIDs = false
			}
		}
		ids = append(ids, fmt.Sprintf("%d-%d", v.RunID, b.RunID))
		if c.Interaction() {
			ids2 = append(ids2, fmt.Sprintf("%d-%d", v2.RunID, b2.RunID))
		}
	}
	if in.testImages < 0 {
		in.testImages = 0
	}
	if allIDs {
		vm := c.VersusMetric
		if vm == "" {
			vm = c.Metric
		}
		in.key = "runs|" + c.Metric + "|" + vm + "|" + strings.Join(ids, ",")
		if c.Interaction() {
			// Swapping the two gains negates Δ; TOST and the two-sided t
			// give the same p, so it is the same hypothesis.
			g1, g2 := strings.Join(ids, ","), strings.Join(ids2, ",")
			if g2 < g1 {
				g1, g2 = g2, g1
			}
			in.key = "gains|" + c.Metric + "|" + vm + "|" + g1 + "|" + g2
		}
	}
	return in
}

// commonTestImages is the test set size shared by every result (0 when
// unknown or when they differ).
func commonTestImages(results []RunResult) int {
	n := 0
	for _, r := range results {
		if r.TestImages <= 0 || (n != 0 && r.TestImages != n) {
			return 0
		}
		n = r.TestImages
	}
	return n
}

// hasAccuracy reports whether the table shows an accuracy anywhere.
func hasAccuracy(t *Table) bool {
	for _, c := range t.Columns {
		if accuracyMetric(c.Metric) {
			return true
		}
	}
	return false
}

func sortedSeeds(m map[int64]float64) []int64 {
	s := make([]int64, 0, len(m))
	for k := range m {
		s = append(s, k)
	}
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s
}

// Column returns the index of metric among the table's columns, or −1.
func (t *Table) Column(metric string) int {
	for i, c := range t.Columns {
		if c.Metric == metric {
			return i
		}
	}
	return -1
}

// Row returns the row of variant, or nil.
func (t *Table) Row(variant string) *Row {
	for i := range t.Rows {
		if t.Rows[i].Variant == variant {
			return &t.Rows[i]
		}
	}
	return nil
}
