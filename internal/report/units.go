package report

import (
	"fmt"
	"math"
	"strings"
)

// Unit says how a column's values are scaled and printed: value/Scale with
// Decimals decimals, and Suffix in the header ("M" for millions).
type Unit struct {
	Scale    float64
	Suffix   string
	Decimals int
}

// UnitFor picks the unit of metric from the values the column holds:
// accuracies in points with one decimal; parameter and FLOP counts in K, M
// or G (by the largest value) with three decimals; seconds as whole numbers.
func UnitFor(metric string, values []float64) Unit {
	switch {
	case strings.HasPrefix(metric, "acc.") || strings.HasPrefix(metric, "drop."):
		return Unit{Scale: 1, Decimals: 1}
	case strings.HasPrefix(metric, "params.") || strings.HasPrefix(metric, "flops."):
		max := 0.0
		for _, v := range values {
			max = math.Max(max, math.Abs(v))
		}
		switch {
		case max >= 1e9:
			return Unit{Scale: 1e9, Suffix: "G", Decimals: 3}
		case max >= 1e6:
			return Unit{Scale: 1e6, Suffix: "M", Decimals: 3}
		case max >= 1e3:
			return Unit{Scale: 1e3, Suffix: "K", Decimals: 3}
		}
		return Unit{Scale: 1, Decimals: 0}
	case metric == "train_seconds":
		return Unit{Scale: 1, Suffix: "s", Decimals: 0}
	case strings.HasPrefix(metric, "loss."):
		return Unit{Scale: 1, Decimals: 3}
	}
	return Unit{Scale: 1, Decimals: 2}
}

// Format prints x in the unit, without the suffix.
func (u Unit) Format(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	s := fmt.Sprintf("%.*f", u.Decimals, x/u.Scale)
	if strings.HasPrefix(s, "-") && strings.Trim(s, "-0.") == "" {
		s = s[1:] // no "-0.0"
	}
	return s
}

// FormatDelta prints a difference in the unit with an explicit sign. The
// sign is the sign of x even where it rounds to zero ("-0.0" for −0.003), so
// that a CI bound just below zero does not read as "+0.0".
func (u Unit) FormatDelta(x float64) string {
	s := u.Format(x)
	switch {
	case math.IsNaN(x):
	case x < 0 && !strings.HasPrefix(s, "-"):
		s = "-" + s
	case x >= 0:
		s = "+" + s
	}
	return s
}

// Header is the short column name of metric, e.g. "S4 vflip" for
// "acc.vflip.S4".
func Header(metric string) string {
	p := strings.Split(metric, ".")
	switch {
	case len(p) == 2 && p[0] == "acc":
		return p[1]
	case len(p) == 3 && p[0] == "acc":
		return p[2] + " " + p[1]
	case len(p) == 3 && p[0] == "drop":
		return p[2] + " " + p[1] + " drop"
	case len(p) == 2 && (p[0] == "params" || p[0] == "flops"):
		name := map[string]string{"params": "Params", "flops": "FLOPs"}[p[0]]
		switch p[1] {
		case "inference":
			return name
		default:
			return name + " " + p[1]
		}
	case len(p) == 2 && p[0] == "loss":
		return strings.ToUpper(p[1]) + " loss"
	case metric == "train_seconds":
		return "Train time"
	case metric == "images_per_sec":
		return "img/s"
	}
	return metric
}

// HeaderWithUnit is Header with the unit's suffix in parentheses.
func (c Column) HeaderWithUnit() string {
	if c.Unit.Suffix == "" {
		return c.Header
	}
	return c.Header + " (" + c.Unit.Suffix + ")"
}

// CellText is the cell as "mean ± std (n)" in the column's unit; "mean (1)"
// for a single seed and "— (0)" for none.
func (c Column) CellText(cell Cell) string {
	switch cell.N {
	case 0:
		return "— (0)"
	case 1:
		return fmt.Sprintf("%s (1)", c.Unit.Format(cell.Mean))
	}
	return fmt.Sprintf("%s ± %s (%d)", c.Unit.Format(cell.Mean), c.Unit.Format(cell.Std), cell.N)
}

// PaperText is the paper's figure of the cell in the column's unit, or "".
func (c Column) PaperText(cell Cell) string {
	if cell.Paper == nil {
		return ""
	}
	return c.Unit.Format(cell.Paper.Value)
}

// DeltaText is a paired comparison as "+0.9 [+0.2, +1.6] (3)" (mean delta,
// 95 % CI, n) in the column's unit, or "+9.546 ± 0 (3)" when every seed
// gives the same difference; parameter and FLOP columns add the relative
// change ("+1.1 %"), as Table 7 does.
func (c Column) DeltaText(p Paired) string {
	switch p.N() {
	case 0:
		return "— (0)"
	case 1:
		return fmt.Sprintf("%s (1)", c.Unit.FormatDelta(p.Delta.Mean))
	}
	var s string
	if p.Delta.Std == 0 {
		// Every seed gives the same difference (parameter and FLOP counts).
		s = fmt.Sprintf("%s ± 0 (%d)", c.Unit.FormatDelta(p.Delta.Mean), p.N())
	} else {
		s = fmt.Sprintf("%s [%s, %s] (%d)", c.Unit.FormatDelta(p.Delta.Mean),
			c.Unit.FormatDelta(p.Delta.CILow), c.Unit.FormatDelta(p.Delta.CIHigh), p.N())
	}
	if c.relative() {
		if r := p.RelChange(); !math.IsNaN(r) {
			s += fmt.Sprintf(" %+.1f %%", r)
		}
	}
	return s
}

// relative reports whether deltas of this column are also shown in percent.
func (c Column) relative() bool {
	return strings.HasPrefix(c.Metric, "params.") || strings.HasPrefix(c.Metric, "flops.")
}
