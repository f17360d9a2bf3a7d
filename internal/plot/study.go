package plot

import (
	"github.com/mksmt/workbench/internal/report"
)

// StudyFigures are the figures of one study: its learning curves (when
// curves are given), Figure 3's sweep for a study on a numeric axis, and the
// grouped bar chart otherwise (tables 8–11; Table 7's accuracy column).
// A figure that has nothing to draw is left out, not an error; the notes
// say which and why.
func StudyFigures(t *report.Table, curves []report.Curve) (figs []*Figure, notes []string) {
	variants := make([]string, len(t.Rows))
	for i, r := range t.Rows {
		variants[i] = r.Variant
	}
	if len(curves) > 0 {
		title := tableTitle(t)
		f, err := LearningCurves(safeName(t.Study)+"-curves", title+" — learning curves, mean ± std over seeds", curves, variants)
		if err != nil {
			notes = append(notes, err.Error())
		} else {
			figs = append(figs, f)
		}
	} else {
		notes = append(notes, "learning curves "+t.Study+": no metric series recorded")
	}
	var f *Figure
	var err error
	if t.Sweep != nil {
		f, err = Sweep(t)
	} else {
		f, err = Bars(t)
	}
	if err != nil {
		notes = append(notes, err.Error())
	} else {
		figs = append(figs, f)
	}
	return figs, notes
}

// tableTitle is the title of t's figures: the table's title, or its study's
// name when it has none.
func tableTitle(t *report.Table) string {
	if t.Title == "" {
		return t.Study
	}
	return t.Title
}
