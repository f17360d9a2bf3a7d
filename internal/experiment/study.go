package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Study is one spec file: a set of variants run over seeds and compared.
type Study struct {
	Name, Title string
	Description string // free text shown beside the study (the TUI, reports)

	Path   string // file it came from ("" when built in memory)
	Source []byte // the spec text as read
	Hash   string // sha256 of Source, hex

	// Defaults for every run; "" = train.DefaultConfig()'s value.
	Dataset, Backbone string
	Profile           string // default profile; ExpandOptions.Profile overrides it

	// Table names the paper table this study renders: "table7".."table11",
	// "fig3", or "" for a generic study.
	Table string

	Base map[string]any // [base]: train.Config overrides by toml name

	// Variants are the runs' settings, in order: the named [[variant]]
	// entries, or the product of the [grid] axes, or (when both are given)
	// each named variant crossed with every grid point. Grid labels read
	// "temperature=2"; crossed ones "two-step,temperature=2".
	Variants []Variant
	// Named and Grid are the [[variant]] entries and [grid] axes as written;
	// Variants is their product. Encode writes Named and Grid when either is
	// set (and checks they still give Variants), else Variants as [[variant]].
	Named []Variant
	Grid  []Axis

	Seeds    []int64
	Metrics  []string // metric keys to tabulate (MetricKeys), e.g. "acc.S4"
	Baseline string   // label of the variant that paired comparisons use

	Paper  []PaperFigure // the paper's figures (DESIGN §1)
	Claims []Claim       // the paper's claims, each to get a verdict
}

// Variant is a labelled set of train.Config overrides (toml names). Values
// are normalised to the field's Go type: string, int, float64, bool or []int.
type Variant struct {
	Label     string
	Overrides map[string]any
}

// Axis is one [grid] key and the values it takes, in order.
type Axis struct {
	Key    string
	Values []any
}

// PaperFigure is a number the paper states. With Versus and VersusMetric
// empty, Value is Metric of Variant. Otherwise Value is a difference:
// Metric(Variant) − VersusMetric(Versus), where Versus defaults to Variant
// and VersusMetric to Metric; Percent makes it relative, in percent of the
// reference (e.g. Table 7: params.total of two-step vs baseline, +1.1 %).
type PaperFigure struct {
	Variant, Metric string
	Value           float64
	Note            string
	Versus          string
	VersusMetric    string
	Percent         bool
}

// IsDifference reports whether Value is a difference rather than a level.
func (f PaperFigure) IsDifference() bool { return f.Versus != "" || f.VersusMetric != "" }

// Claim is a statement of the paper checked on the runs: Metric of Variant
// compared with Metric of Baseline (VersusMetric of Baseline, when set) over
// matching seeds. With Variant2 and Baseline2 it is an interaction claim:
// the gain Variant − Baseline compared with the gain Variant2 − Baseline2.
// internal/report judges it; its package doc and docs/verdicts.md state the
// rules.
type Claim struct {
	Text     string
	Metric   string
	Variant  string
	Baseline string // variant label; defaults to the study's Baseline
	// Variant2 and Baseline2 (both or neither; no default) make the claim
	// an interaction: per seed Δ = (Variant − Baseline) − (Variant2 −
	// Baseline2), e.g. "the two-step gain under recipe A equals its gain
	// under recipe B". VersusMetric, when set, applies to both baselines.
	Variant2, Baseline2 string
	Expect              string // "higher", "lower" or "equal"
	// VersusMetric, when set, is the metric of Baseline subtracted from
	// Metric of Variant; with Baseline = Variant the pairs are two metrics of
	// each run (e.g. acc.hflip.S4 − acc.S4: a model's own drop under a flip).
	VersusMetric string
	// Tolerance is the equivalence margin of an "equal" claim, in the
	// metric's units (points for accuracies); 0 = report's default.
	Tolerance float64
	// Delta is the paper's effect (Variant − Baseline, in the metric's
	// units), when the paper states one; nil when it does not.
	Delta *float64
	// Source is who makes the claim: "paper" (the default) or "workbench"
	// (a claim of the workbench's own, e.g. a control the paper lacks).
	Source string
}

// Interaction reports whether the claim compares two gains (Variant2 set).
func (c Claim) Interaction() bool { return c.Variant2 != "" || c.Baseline2 != "" }

// Expectations are the allowed Claim.Expect values.
var Expectations = []string{"higher", "lower", "equal"}

// ClaimSources are the allowed Claim.Source values ("" means "paper").
var ClaimSources = []string{"paper", "workbench"}

// Tables are the paper tables a study may render.
var Tables = []string{"table7", "table8", "table9", "table10", "table11", "fig3"}

// Variant returns the variant with the given label.
func (s *Study) Variant(label string) (Variant, bool) {
	for _, v := range s.Variants {
		if v.Label == label {
			return v, true
		}
	}
	return Variant{}, false
}

// Labels lists the variant labels in order.
func (s *Study) Labels() []string {
	out := make([]string, len(s.Variants))
	for i, v := range s.Variants {
		out[i] = v.Label
	}
	return out
}

// Load reads and parses a spec file: a regular file of at most
// MaxSpecBytes (devices, FIFOs and larger files are refused without being
// read whole).
func Load(path string) (*Study, error) {
	src, err := readSpecFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

func hashText(src []byte) string {
	sum := sha256.Sum256(src)
	return hex.EncodeToString(sum[:])
}

// ValidName checks a study name or variant label: 1–64 letters, digits, '-'
// or '_', starting with a letter or digit. A valid name is never a path.
func ValidName(name string) error {
	return checkChars("name", name, 64, "-_", "use letters, digits, '-' and '_', starting with a letter or digit")
}

// ValidLabel checks a variant label: 1–100 characters from letters, digits
// and "-_.=,+[] ", starting with a letter or digit and not ending in a
// space. Grid labels ("temperature=2.5", "two-step,widths=[8 16 32 64]")
// are valid labels; the paper studies use plain names ("two-step").
func ValidLabel(label string) error {
	if err := checkChars("label", label, 100, "-_.=,+[] ", "use letters, digits and -_.=,+[] and space, starting with a letter or digit"); err != nil {
		return err
	}
	if strings.HasSuffix(label, " ") {
		return fmt.Errorf("label %q ends in a space", label)
	}
	return nil
}

// checkChars checks that s (a what) is 1 to maxLen bytes of ASCII letters
// and digits, plus the characters of extra after the first; hint says what
// is allowed.
func checkChars(what, s string, maxLen int, extra, hint string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	if len(s) > maxLen {
		return fmt.Errorf("%s %.20q... is longer than %d characters", what, s, maxLen)
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
		if !ok && i > 0 && strings.ContainsRune(extra, r) {
			ok = true
		}
		if !ok {
			return fmt.Errorf("%s %q: %q is not allowed (%s)", what, s, r, hint)
		}
	}
	return nil
}

// Product crosses named variants with grid axes, as a spec does: named only,
// grid only (labels "key=value,key=value"), or each named variant with every
// grid point ("label,key=value"). It fails on a duplicate label or a key set
// by both a variant and an axis.
func Product(named []Variant, grid []Axis) ([]Variant, error) {
	for _, v := range named {
		for _, a := range grid {
			if _, ok := v.Overrides[a.Key]; ok {
				return nil, fmt.Errorf("variant %q sets %s, which the grid varies; set it in one place", v.Label, a.Key)
			}
		}
	}
	points := []Variant{{}}
	for _, a := range grid {
		if len(a.Values) == 0 {
			return nil, fmt.Errorf("grid axis %s has no values", a.Key)
		}
		var next []Variant
		for _, p := range points {
			for _, val := range a.Values {
				o := cloneOverrides(p.Overrides)
				o[a.Key] = val
				label := a.Key + "=" + labelValue(val)
				if p.Label != "" {
					label = p.Label + "," + label
				}
				next = append(next, Variant{Label: label, Overrides: o})
			}
		}
		points = next
	}
	var out []Variant
	switch {
	case len(grid) == 0:
		for _, v := range named {
			out = append(out, Variant{Label: v.Label, Overrides: cloneOverrides(v.Overrides)})
		}
	case len(named) == 0:
		out = points
	default:
		for _, v := range named {
			for _, p := range points {
				o := cloneOverrides(v.Overrides)
				for k, x := range p.Overrides {
					o[k] = x
				}
				out = append(out, Variant{Label: v.Label + "," + p.Label, Overrides: o})
			}
		}
	}
	seen := map[string]bool{}
	for _, v := range out {
		if seen[v.Label] {
			return nil, fmt.Errorf("variant label %q appears twice", v.Label)
		}
		seen[v.Label] = true
	}
	return out, nil
}

func cloneOverrides(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if l, ok := v.([]int); ok {
			v = slices.Clone(l)
		}
		out[k] = v
	}
	return out
}

// labelValue writes a grid value for a label: 2, 0.5, async, [8 16 32 64].
func labelValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case float64:
		return fmtFloat(x)
	case bool:
		return strconv.FormatBool(x)
	case []int:
		return "[" + joinInts(x, " ") + "]"
	}
	return fmt.Sprint(v)
}
