package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/muesli/termenv"
)

// Format is an output format of a table.
type Format string

// The formats.
const (
	Term     Format = "term"
	Markdown Format = "md"
	CSV      Format = "csv"
	JSON     Format = "json"
	LaTeX    Format = "latex"
)

// Formats lists every format, in the order the CLI shows them.
var Formats = []Format{Term, Markdown, CSV, JSON, LaTeX}

// ParseFormat accepts a format name (also "markdown" and "tex").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "term", "terminal", "text":
		return Term, nil
	case "md", "markdown":
		return Markdown, nil
	case "csv":
		return CSV, nil
	case "json":
		return JSON, nil
	case "latex", "tex":
		return LaTeX, nil
	}
	return "", fmt.Errorf("unknown table format %q (want term, md, csv, json or latex)", s)
}

// Ext is the file extension of the format, without the dot.
func (f Format) Ext() string {
	switch f {
	case Term:
		return "txt"
	case LaTeX:
		return "tex"
	}
	return string(f)
}

// Render writes the tables in format f. Several tables are separated by a
// blank line (term, md, latex), share one header (csv) or form one JSON
// array (json). r styles the terminal format; nil renders plain text.
func Render(w io.Writer, f Format, r *lipgloss.Renderer, tables ...*Table) error {
	return RenderWidth(w, f, r, 0, tables...)
}

// RenderWidth is Render with the terminal format fitted to width columns
// (see WriteTermWidth); width ≤ 0 and the other formats are not limited.
func RenderWidth(w io.Writer, f Format, r *lipgloss.Renderer, width int, tables ...*Table) error {
	switch f {
	case CSV:
		return WriteCSV(w, tables...)
	case JSON:
		return WriteJSON(w, tables...)
	}
	for i, t := range tables {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		var err error
		switch f {
		case Term:
			err = WriteTermWidth(w, t, r, width)
		case Markdown:
			err = WriteMarkdown(w, t)
		case LaTeX:
			err = WriteLaTeX(w, t)
		default:
			err = fmt.Errorf("unknown table format %q", f)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// verdictCol is the index of the verdict in claimGrid's rows.
const verdictCol = 8

// claimFit says how the claims grid gives way to a narrow terminal: a
// verdict's words stay on one line ("not reproduced"); the resolution, the metric, the raw p and the
// paper's Δ go (in that order) when wrapping alone cannot fit it, since
// the line under the table for each claim says them all.
var claimFit = []colFit{
	1:          {drop: 2}, // Metric
	4:          {drop: 1}, // Res.
	5:          {drop: 4}, // Paper Δ
	6:          {drop: 3}, // p raw
	verdictCol: {floor: len("not reproduced")},
}

// WriteTerm writes t for a terminal: lipgloss tables with rounded borders,
// verdicts in colour. r decides the colour profile (nil: plain text, no
// escape codes, as when output is not a terminal).
func WriteTerm(w io.Writer, t *Table, r *lipgloss.Renderer) error {
	return WriteTermWidth(w, t, r, 0)
}

// WriteTermWidth is WriteTerm fitted to width columns (≤ 0: no limit): a
// grid too wide wraps its cells at word boundaries (rows then get rules
// between them), then leaves out the claims grid's least useful columns
// and says which; prose wraps with a hanging indent; a word or line that
// still does not fit ends in "…".
func WriteTermWidth(w io.Writer, t *Table, r *lipgloss.Renderer, width int) error {
	if r == nil {
		r = lipgloss.NewRenderer(io.Discard)
		r.SetColorProfile(termenv.Ascii)
	}
	bold := r.NewStyle().Bold(true)
	faint := r.NewStyle().Faint(true)
	warn := r.NewStyle().Foreground(lipgloss.Color("3"))
	border := r.NewStyle().Foreground(lipgloss.Color("8"))
	cell := r.NewStyle().Padding(0, 1)
	head := cell.Bold(true)
	verdictStyle := map[Verdict]lipgloss.Style{
		Reproduced:    r.NewStyle().Foreground(lipgloss.Color("2")).Bold(true),
		NotReproduced: r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		Inconclusive:  r.NewStyle().Foreground(lipgloss.Color("3")),
		NoSpread:      r.NewStyle().Foreground(lipgloss.Color("3")),
		HoldsExactly:  r.NewStyle().Foreground(lipgloss.Color("6")),
		Fails:         r.NewStyle().Foreground(lipgloss.Color("1")),
	}
	var dropped []string
	grid := func(header []string, rows [][]string, fit []colFit, style func(row, col int) lipgloss.Style) string {
		g := fitGrid(header, rows, width, fit)
		dropped = append(dropped, g.dropped...)
		// lipgloss draws a header on one line: a wrapped one is the first
		// row instead, set off by the rules a wrapped grid has.
		first := 0
		tb := table.New().Border(lipgloss.RoundedBorder()).BorderStyle(border).BorderRow(g.wrapped)
		if g.wrapped {
			tb.Rows(append([][]string{g.header}, g.rows...)...)
			first = 1
		} else {
			tb.Headers(g.header...).Rows(g.rows...)
		}
		tb.StyleFunc(func(row, col int) lipgloss.Style {
			if row == table.HeaderRow || row < first {
				return head
			}
			if style != nil {
				return style(row-first, g.cols[col])
			}
			return cell
		})
		return clipLines(tb.Render(), width)
	}
	var b strings.Builder
	prose := func(style lipgloss.Style, s string) {
		for _, l := range wrapProse(s, width) {
			b.WriteString(style.Render(l) + "\n")
		}
	}
	prose(bold, t.heading())
	for _, l := range t.Headline {
		prose(warn, l)
	}
	h, rows := t.mainGrid()
	b.WriteString(grid(h, rows, nil, nil) + "\n")
	if len(t.Deltas) > 0 {
		h, rows := t.deltaGrid()
		b.WriteString(grid(h, rows, nil, nil) + "\n")
	}
	if len(t.PaperDiffs) > 0 {
		h, rows := t.paperDiffGrid()
		b.WriteString(grid(h, rows, nil, nil) + "\n")
	}
	if len(t.Claims) > 0 {
		h, rows := t.claimGrid()
		b.WriteString(grid(h, rows, claimFit, func(row, col int) lipgloss.Style {
			if col == verdictCol {
				return cell.Inherit(verdictStyle[t.Claims[row].Verdict])
			}
			return cell
		}) + "\n")
		if len(dropped) > 0 {
			prose(faint, fmt.Sprintf("  (%s left out at %d columns; the lines below give them)", strings.Join(dropped, ", "), width))
		}
		for _, c := range t.Claims {
			prose(faint, "  "+c.Text+": "+c.Reason)
		}
	}
	prose(faint, t.legend())
	if len(t.Claims) > 0 {
		prose(faint, t.tally().String())
	}
	for _, n := range t.Notes {
		prose(faint, "note: "+n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes t as GitHub-flavoured Markdown.
func WriteMarkdown(w io.Writer, t *Table) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n", mdEscape(t.heading()))
	for _, l := range t.Headline {
		fmt.Fprintf(&b, "> %s\n\n", mdEscape(l))
	}
	h, rows := t.mainGrid()
	mdTable(&b, h, rows, "l")
	if len(t.Deltas) > 0 {
		b.WriteString("\n")
		h, rows := t.deltaGrid()
		mdTable(&b, h, rows, "l")
	}
	if len(t.PaperDiffs) > 0 {
		b.WriteString("\n")
		h, rows := t.paperDiffGrid()
		mdTable(&b, h, rows, "ll")
	}
	if len(t.Claims) > 0 {
		b.WriteString("\n")
		h, rows := t.claimGrid()
		for i := range rows {
			for j := range rows[i] {
				rows[i][j] = mdEscape(rows[i][j])
			}
			rows[i][verdictCol] = "**" + rows[i][verdictCol] + "**"
		}
		for j := range h {
			h[j] = mdEscape(h[j])
		}
		mdTableRaw(&b, h, rows, "lllrrrrrlr")
		b.WriteString("\n")
		for _, c := range t.Claims {
			fmt.Fprintf(&b, "- %s: %s\n", mdEscape(c.Text), mdEscape(c.Reason))
		}
	}
	fmt.Fprintf(&b, "\n%s\n", mdEscape(t.legend()))
	if len(t.Claims) > 0 {
		fmt.Fprintf(&b, "\n%s\n", mdEscape(t.tally().String()))
	}
	if len(t.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range t.Notes {
			fmt.Fprintf(&b, "- note: %s\n", mdEscape(n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdTable writes a pipe table of plain-text cells. align gives each
// column's alignment ('l' or 'r'); columns past its end are right-aligned.
func mdTable(b *strings.Builder, header []string, rows [][]string, align string) {
	esc := func(cells []string) []string {
		out := make([]string, len(cells))
		for i, c := range cells {
			out[i] = mdEscape(c)
		}
		return out
	}
	escaped := make([][]string, len(rows))
	for i, r := range rows {
		escaped[i] = esc(r)
	}
	mdTableRaw(b, esc(header), escaped, align)
}

// mdTableRaw is mdTable for cells that are Markdown already.
func mdTableRaw(b *strings.Builder, header []string, rows [][]string, align string) {
	line := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	line(header)
	b.WriteString("|")
	for i := range header {
		if i < len(align) && align[i] == 'l' {
			b.WriteString(" --- |")
		} else {
			b.WriteString(" ---: |")
		}
	}
	b.WriteString("\n")
	for _, r := range rows {
		line(r)
	}
}

func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`).Replace(s)
}

// csvHeader is the header of WriteCSV. Rows of kind "cell" are one study ×
// variant × metric, raw numbers (not scaled), empty where not defined, with
// the cell's paired comparison against the baseline; rows of kind "claim"
// are one claim each: variant, metric, baseline, the paired comparison and
// the claim's columns (the cell columns empty). An interaction claim fills
// variant2 and baseline2, and its delta is the difference of the two gains.
var csvHeader = []string{"study", "table", "variant", "x", "metric", "n", "mean", "std",
	"ci95_low", "ci95_high", "min", "max", "paper", "baseline", "n_paired", "delta",
	"delta_ci95_low", "delta_ci95_high", "p", "seeds",
	"row", "claim", "source", "expect", "versus_metric", "variant2", "baseline2", "tolerance", "paper_delta", "magnitude",
	"test", "p_raw", "p_holm", "holm_family", "resolution", "verdict", "seeds_needed", "reason"}

// csvClaimCols is the number of claim columns at the end of csvHeader.
const csvClaimCols = 18

// csvCol is the index of a column of csvHeader (claim rows fill theirs by
// name, so that a new column cannot shift them).
func csvCol(name string) int {
	for i, h := range csvHeader {
		if h == name {
			return i
		}
	}
	panic("report: no CSV column " + name)
}

// WriteCSV writes the cells of the tables as tidy CSV (csvHeader), with
// each cell's paired comparison against the baseline on the same row, then
// one row per claim with its verdict.
func WriteCSV(w io.Writer, tables ...*Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, t := range tables {
		for _, r := range t.Rows {
			var d *DeltaRow
			for i := range t.Deltas {
				if t.Deltas[i].Variant == r.Variant {
					d = &t.Deltas[i]
				}
			}
			for i, c := range t.Columns {
				cell := r.Cells[i]
				rec := []string{t.Study, t.Kind, r.Variant, num(r.X), c.Metric, strconv.Itoa(cell.N),
					num(cell.Mean), num(cell.Std), num(cell.CILow), num(cell.CIHigh), num(cell.Min), num(cell.Max), ""}
				if cell.Paper != nil {
					rec[len(rec)-1] = num(cell.Paper.Value)
				}
				if d != nil {
					p := d.Cells[i]
					rec = append(rec, t.Baseline, strconv.Itoa(p.N()), num(p.Delta.Mean), num(p.Delta.CILow), num(p.Delta.CIHigh), num(p.P))
				} else {
					rec = append(rec, "", "", "", "", "", "")
				}
				rec = append(rec, seedList(cell.Seeds), "cell")
				rec = append(rec, make([]string, csvClaimCols-1)...)
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
		}
		for _, c := range t.Claims {
			p := c.Paired
			rec := make([]string, len(csvHeader))
			set := func(col, v string) { rec[csvCol(col)] = v }
			for _, kv := range [][2]string{{"study", t.Study}, {"table", t.Kind}, {"variant", c.Variant}, {"metric", c.Metric},
				{"baseline", c.Baseline}, {"n_paired", strconv.Itoa(p.N())}, {"delta", num(p.Delta.Mean)},
				{"delta_ci95_low", num(p.Delta.CILow)}, {"delta_ci95_high", num(p.Delta.CIHigh)}, {"p", num(p.P)},
				{"seeds", seedList(p.Seeds)}, {"row", "claim"}, {"claim", c.Text}, {"source", claimSource(c)},
				{"expect", c.Expect}, {"versus_metric", c.VersusMetric}, {"variant2", c.Variant2}, {"baseline2", c.Baseline2},
				{"magnitude", string(c.Magnitude)}, {"test", c.Test}, {"p_raw", num(c.P)}, {"p_holm", num(c.PAdjusted)},
				{"resolution", num(c.Resolution)}, {"verdict", string(c.Verdict)}, {"reason", c.Reason}} {
				set(kv[0], kv[1])
			}
			if c.Expect == "equal" {
				set("tolerance", num(c.Tolerance))
			}
			if c.Delta != nil {
				set("paper_delta", num(*c.Delta))
			}
			if c.Family > 0 {
				set("holm_family", strconv.Itoa(c.Family))
			}
			if c.SeedsNeeded > 0 {
				set("seeds_needed", strconv.Itoa(c.SeedsNeeded))
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// claimSource is "paper" or "workbench".
func claimSource(c ClaimResult) string {
	if c.Source == "" {
		return "paper"
	}
	return c.Source
}

// num prints a raw number for CSV: 12 significant digits (enough for any
// metric, and free of float noise such as 0.3999999999999986), "" for NaN.
func num(x float64) string {
	if math.IsNaN(x) {
		return ""
	}
	return strconv.FormatFloat(round12(x), 'g', -1, 64)
}

// round12 rounds x to 12 significant digits.
func round12(x float64) float64 {
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return r
}

func seedList(seeds []int64) string {
	s := make([]string, len(seeds))
	for i, x := range seeds {
		s[i] = strconv.FormatInt(x, 10)
	}
	return strings.Join(s, " ")
}

// The JSON shape: numbers are raw (not scaled); undefined numbers are null.
type (
	jsonTable struct {
		Study    string       `json:"study"`
		Title    string       `json:"title,omitempty"`
		Profile  string       `json:"profile,omitempty"`
		Headline []string     `json:"headline,omitempty"`
		Table    string       `json:"table,omitempty"`
		Baseline string       `json:"baseline,omitempty"`
		Seeds    []int64      `json:"seeds"`
		Sweep    string       `json:"sweep,omitempty"`
		Columns  []jsonColumn `json:"columns"`
		Rows     []jsonRow    `json:"rows"`
		Deltas   []jsonDelta  `json:"deltas,omitempty"`
		Claims   []jsonClaim  `json:"claims,omitempty"`
		Paper    []jsonDiff   `json:"paper_differences,omitempty"`
		Notes    []string     `json:"notes,omitempty"`
	}
	jsonColumn struct {
		Metric string `json:"metric"`
		Header string `json:"header"`
	}
	jsonRow struct {
		Variant string     `json:"variant"`
		X       *float64   `json:"x,omitempty"`
		Cells   []jsonCell `json:"cells"`
	}
	jsonStats struct {
		N      int             `json:"n"`
		Mean   *float64        `json:"mean"`
		Std    *float64        `json:"std"`
		CI95   []*float64      `json:"ci95"`
		Min    *float64        `json:"min"`
		Max    *float64        `json:"max"`
		Values []jsonSeedValue `json:"values"`
	}
	jsonSeedValue struct {
		Seed  int64   `json:"seed"`
		Value float64 `json:"value"`
	}
	jsonCell struct {
		Metric string `json:"metric"`
		jsonStats
		Paper   *jsonPaper `json:"paper,omitempty"`
		Missing []int64    `json:"missing_seeds,omitempty"`
	}
	jsonPaper struct {
		Value float64 `json:"value"`
		Note  string  `json:"note,omitempty"`
	}
	jsonPaired struct {
		N         int        `json:"n"`
		Delta     *float64   `json:"delta"`
		DeltaStd  *float64   `json:"delta_std"`
		DeltaCI95 []*float64 `json:"delta_ci95"`
		RelChange *float64   `json:"rel_change_percent"`
		T         *float64   `json:"t"`
		P         *float64   `json:"p"`
		Seeds     []int64    `json:"seeds"`
	}
	jsonDelta struct {
		Variant string          `json:"variant"`
		Cells   []jsonDeltaCell `json:"cells"`
	}
	jsonDeltaCell struct {
		Metric string `json:"metric"`
		jsonPaired
	}
	jsonDiff struct {
		Variant      string   `json:"variant"`
		Metric       string   `json:"metric"`
		Versus       string   `json:"versus"`
		VersusMetric string   `json:"versus_metric"`
		Percent      bool     `json:"percent,omitempty"`
		Note         string   `json:"note,omitempty"`
		PaperValue   float64  `json:"paper_value"`
		RunsValue    *float64 `json:"runs_value"`
		jsonPaired
	}
	jsonClaim struct {
		Text         string `json:"text"`
		Source       string `json:"source"`
		Metric       string `json:"metric"`
		VersusMetric string `json:"versus_metric,omitempty"`
		Variant      string `json:"variant"`
		Baseline     string `json:"baseline"`
		Variant2     string `json:"variant2,omitempty"`
		Baseline2    string `json:"baseline2,omitempty"`
		// Gain and Gain2 are an interaction's mean gains over its paired
		// seeds (variant − baseline, variant2 − baseline2); delta is Gain −
		// Gain2.
		Gain          *float64 `json:"gain,omitempty"`
		Gain2         *float64 `json:"gain2,omitempty"`
		Expect        string   `json:"expect"`
		Deterministic bool     `json:"deterministic"`
		Tolerance     *float64 `json:"tolerance,omitempty"`
		PaperDelta    *float64 `json:"paper_delta,omitempty"`
		Magnitude     string   `json:"magnitude,omitempty"`
		jsonPaired
		DeltaCI90   []*float64 `json:"delta_ci90,omitempty"`
		Test        string     `json:"test"`
		PRaw        *float64   `json:"p_raw"`
		PHolm       *float64   `json:"p_holm"`
		HolmFamily  int        `json:"holm_family,omitempty"`
		TestImages  int        `json:"test_images,omitempty"`
		Resolution  *float64   `json:"resolution,omitempty"`
		SeedsNeeded *int       `json:"seeds_needed,omitempty"`
		SeedsBasis  string     `json:"seeds_needed_basis,omitempty"`
		Verdict     Verdict    `json:"verdict"`
		Reason      string     `json:"reason"`
	}
)

func jf(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	x = round12(x)
	return &x
}

func jsonPair(p Paired) jsonPaired {
	return jsonPaired{N: p.N(), Delta: jf(p.Delta.Mean), DeltaStd: jf(p.Delta.Std),
		DeltaCI95: []*float64{jf(p.Delta.CILow), jf(p.Delta.CIHigh)}, RelChange: jf(p.RelChange()),
		T: jf(p.T), P: jf(p.P), Seeds: nonNil(p.Seeds)}
}

func nonNil(s []int64) []int64 {
	if s == nil {
		return []int64{}
	}
	return s
}

func (t *Table) toJSON() jsonTable {
	j := jsonTable{Study: t.Study, Title: t.Title, Profile: t.Profile, Headline: t.Headline, Table: t.Kind, Baseline: t.Baseline, Seeds: nonNil(t.Seeds), Notes: t.Notes}
	if t.Sweep != nil {
		j.Sweep = sweepLabel(t.Sweep)
	}
	for _, c := range t.Columns {
		j.Columns = append(j.Columns, jsonColumn{Metric: c.Metric, Header: c.Header})
	}
	for _, r := range t.Rows {
		jr := jsonRow{Variant: r.Variant, X: jf(r.X)}
		for i, c := range t.Columns {
			cell := r.Cells[i]
			st := jsonStats{N: cell.N, Mean: jf(cell.Mean), Std: jf(cell.Std),
				CI95: []*float64{jf(cell.CILow), jf(cell.CIHigh)}, Min: jf(cell.Min), Max: jf(cell.Max),
				Values: []jsonSeedValue{}}
			for _, s := range cell.Seeds {
				st.Values = append(st.Values, jsonSeedValue{Seed: s, Value: round12(cell.BySeed[s])})
			}
			jc := jsonCell{Metric: c.Metric, jsonStats: st, Missing: cell.Missing}
			if cell.Paper != nil {
				jc.Paper = &jsonPaper{Value: cell.Paper.Value, Note: cell.Paper.Note}
			}
			jr.Cells = append(jr.Cells, jc)
		}
		j.Rows = append(j.Rows, jr)
	}
	for _, d := range t.Deltas {
		jd := jsonDelta{Variant: d.Variant}
		for i, c := range t.Columns {
			jd.Cells = append(jd.Cells, jsonDeltaCell{Metric: c.Metric, jsonPaired: jsonPair(d.Cells[i])})
		}
		j.Deltas = append(j.Deltas, jd)
	}
	for _, c := range t.Claims {
		jc := jsonClaim{Text: c.Text, Source: claimSource(c), Metric: c.Metric, VersusMetric: c.VersusMetric,
			Variant: c.Variant, Baseline: c.Baseline, Expect: c.Expect, Deterministic: c.Deterministic,
			Magnitude: string(c.Magnitude), jsonPaired: jsonPair(c.Paired), Test: c.Test, PRaw: jf(c.P), PHolm: jf(c.PAdjusted),
			HolmFamily: c.Family, TestImages: c.TestImages, Resolution: jf(c.Resolution), SeedsBasis: c.SeedsBasis,
			Verdict: c.Verdict, Reason: c.Reason}
		if c.Interaction() {
			jc.Variant2, jc.Baseline2 = c.Variant2, c.Baseline2
			jc.Gain, jc.Gain2 = jf(c.Paired.VariantMean), jf(c.Paired.BaselineMean)
			jc.RelChange = nil // a percentage of the second gain means nothing
		}
		if c.Expect == "equal" {
			jc.Tolerance = jf(c.Tolerance)
			if !math.IsNaN(c.CI90Low) {
				jc.DeltaCI90 = []*float64{jf(c.CI90Low), jf(c.CI90High)}
			}
		}
		if c.Delta != nil {
			jc.PaperDelta = jf(*c.Delta)
		}
		if c.SeedsNeeded > 0 {
			n := c.SeedsNeeded
			jc.SeedsNeeded = &n
		}
		j.Claims = append(j.Claims, jc)
	}
	for _, d := range t.PaperDiffs {
		f := d.Figure
		jd := jsonDiff{Variant: f.Variant, Metric: f.Metric, Versus: f.Versus, VersusMetric: f.VersusMetric,
			Percent: f.Percent, Note: f.Note, PaperValue: f.Value, RunsValue: jf(d.Ours()), jsonPaired: jsonPair(d.Paired)}
		if jd.Versus == "" {
			jd.Versus = f.Variant
		}
		if jd.VersusMetric == "" {
			jd.VersusMetric = f.Metric
		}
		j.Paper = append(j.Paper, jd)
	}
	return j
}

// WriteJSON writes one table as a JSON object, several as an array.
func WriteJSON(w io.Writer, tables ...*Table) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if len(tables) == 1 {
		return enc.Encode(tables[0].toJSON())
	}
	all := make([]jsonTable, len(tables))
	for i, t := range tables {
		all[i] = t.toJSON()
	}
	return enc.Encode(all)
}

// WriteLaTeX writes t as a booktabs table: the variants with their cells
// (paper figures in their own columns), the paired deltas against the
// baseline in a second block, and the claims as a second table.
func WriteLaTeX(w io.Writer, t *Table) error {
	var b strings.Builder
	ncol := 1
	if t.Sweep != nil {
		ncol++
	}
	for _, c := range t.Columns {
		ncol++
		if c.HasPaper {
			ncol++
		}
	}
	fmt.Fprintf(&b, "%% %s: generated by workbench from runs.db\n", texEscape(t.Study))
	for _, l := range t.Headline {
		fmt.Fprintf(&b, "%% %s\n", strings.ReplaceAll(l, "\n", " "))
	}
	b.WriteString("\\begin{table}[t]\n\\centering\n")
	fmt.Fprintf(&b, "\\caption{%s. %s}\n", texEscape(t.heading()), texText(t.legend()))
	fmt.Fprintf(&b, "\\label{tab:%s}\n", labelSafe(t.Study))
	fmt.Fprintf(&b, "\\begin{tabular}{l%s}\n\\toprule\n", strings.Repeat("r", ncol-1))
	header := []string{"Variant"}
	if t.Sweep != nil {
		header = append(header, texEscape(sweepLabel(t.Sweep)))
	}
	for _, c := range t.Columns {
		header = append(header, texText(c.HeaderWithUnit()))
		if c.HasPaper {
			header = append(header, texText(c.Header)+" paper")
		}
	}
	b.WriteString(strings.Join(header, " & ") + " \\\\\n\\midrule\n")
	for _, r := range t.Rows {
		row := []string{texEscape(r.Variant)}
		if t.Sweep != nil {
			row = append(row, formatX(r.X))
		}
		for i, c := range t.Columns {
			row = append(row, texCell(c, r.Cells[i]))
			if c.HasPaper {
				row = append(row, texText(c.PaperText(r.Cells[i])))
			}
		}
		b.WriteString(strings.Join(row, " & ") + " \\\\\n")
	}
	if len(t.Deltas) > 0 {
		fmt.Fprintf(&b, "\\midrule\n\\multicolumn{%d}{l}{\\emph{$\\Delta$ vs %s, paired over seeds: mean [95\\%% CI] (n)}} \\\\\n", ncol, texEscape(t.Baseline))
		for _, d := range t.Deltas {
			row := []string{texEscape(d.Variant)}
			if t.Sweep != nil {
				row = append(row, "")
			}
			for i, c := range t.Columns {
				row = append(row, texText(c.DeltaText(d.Cells[i])))
				if c.HasPaper {
					row = append(row, "")
				}
			}
			b.WriteString(strings.Join(row, " & ") + " \\\\\n")
		}
	}
	b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	if len(t.PaperDiffs) > 0 {
		b.WriteString("\n\\begin{table}[t]\n\\centering\n")
		fmt.Fprintf(&b, "\\caption{%s: differences the paper states, beside the runs'.}\n", texEscape(t.heading()))
		fmt.Fprintf(&b, "\\label{tab:%s-paper}\n", labelSafe(t.Study))
		b.WriteString("\\begin{tabular}{llrr}\n\\toprule\n")
		h, rows := t.paperDiffGrid()
		for i := range h {
			h[i] = texText(h[i])
		}
		b.WriteString(strings.Join(h, " & ") + " \\\\\n\\midrule\n")
		for _, r := range rows {
			for i := range r {
				r[i] = texText(r[i])
			}
			b.WriteString(strings.Join(r, " & ") + " \\\\\n")
		}
		b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	}
	if len(t.Claims) > 0 {
		b.WriteString("\n\\begin{table}[t]\n\\centering\n")
		fmt.Fprintf(&b, "\\caption{%s: the paper's claims at the scale run.}\n", texEscape(t.heading()))
		fmt.Fprintf(&b, "\\label{tab:%s-claims}\n", labelSafe(t.Study))
		b.WriteString("\\begin{tabular}{llrrrrlr}\n\\toprule\n")
		b.WriteString("Claim & Compared & $\\Delta$ [95\\% CI] (n) & Paper $\\Delta$ & $p$ raw & $p$ Holm & Verdict & Seeds needed \\\\\n\\midrule\n")
		for _, c := range t.Claims {
			col := Column{Metric: c.Metric, Unit: t.unitOf(c.Metric)}
			fmt.Fprintf(&b, "%s & %s & %s & %s & %s & %s & %s & %s \\\\\n", texEscape(claimText(c)),
				texText(comparedText(c)), texText(col.DeltaText(c.Paired)), texText(paperDeltaText(col, c)),
				texText(rawPText(c)), texText(pText(c.PAdjusted)), texEscape(string(c.Verdict)), texText(seedsText(c.SeedsNeeded)))
		}
		b.WriteString("\\bottomrule\n\\end{tabular}\n\\end{table}\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func texCell(c Column, cell Cell) string {
	switch cell.N {
	case 0:
		return "--- (0)"
	case 1:
		return fmt.Sprintf("$%s$ (1)", c.Unit.Format(cell.Mean))
	}
	return fmt.Sprintf("$%s \\pm %s$ (%d)", c.Unit.Format(cell.Mean), c.Unit.Format(cell.Std), cell.N)
}

// texEscape escapes LaTeX's special characters in plain text.
func texEscape(s string) string {
	return strings.NewReplacer(`\`, `\textbackslash{}`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`,
		"_", `\_`, "{", `\{`, "}", `\}`, "~", `\textasciitilde{}`, "^", `\textasciicircum{}`).Replace(s)
}

// texText is texEscape plus the few Unicode symbols report prints.
func texText(s string) string {
	return strings.NewReplacer("±", `$\pm$`, "Δ", `$\Delta$`, "—", "---", "<", `$<$`, "≥", `$\geq$`, "−", `$-$`).Replace(texEscape(s))
}

func labelSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == ':' {
			return r
		}
		return '-'
	}, s)
}
