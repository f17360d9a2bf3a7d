package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/plot"
	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

func init() {
	register(&command{
		Name:    "plot",
		Summary: "write the figures of studies to plots/ (learning curves, bar charts, Figure 3)",
		Run:     runPlot,
	})
}

// plotOptions are the flags of `workbench plot`.
type plotOptions struct {
	db      string
	out     string
	format  string
	profile string
	gradcam int
}

func runPlot(ctx context.Context, args []string, io IO) error {
	var o plotOptions
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.StringVar(&o.db, "db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB)")
	fs.StringVar(&o.out, "out", "plots", "directory the figures are written to")
	fs.StringVar(&o.format, "format", "png,svg", "image formats, comma-separated: png, svg")
	fs.StringVar(&o.profile, "profile", "", "plot the runs of this profile (default: each study's own, or else the profile that has finished runs; stderr says which)")
	fs.IntVar(&o.gradcam, "gradcam", 4, "test images in Figure 4 (Grad-CAM, baseline vs MKSMT; fig4-gradcam.*, from the first study named that has both); 0: no Figure 4")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench plot NAME|SPEC... [--out plots/] [--format png|svg|png,svg] [--gradcam N] [--profile P] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nExits 1 when a study named has nothing to draw (no finished runs of its profile), after drawing the others.")
		fs.PrintDefaults()
	}
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(names) == 0 {
		fs.Usage()
		return errors.New("plot: name a study (e.g. workbench plot table9)")
	}
	if err := checkDBFlag("plot", o.db); err != nil {
		return err
	}
	formats, err := parsePlotFormats("plot", "format", o.format)
	if err != nil {
		return err
	}
	if err := checkProfile("plot", o.profile); err != nil {
		return err
	}
	if err := checkRange("plot", "gradcam", o.gradcam, 0, maxGradCAM, "0: no Figure 4"); err != nil {
		return err
	}
	guard, err := newStoreGuard(o.db)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := guard.check("--out", o.out); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	st, err := openForRead(io, o.db)
	if err != nil {
		return err
	}
	defer st.Close()
	// Nothing to draw is an error (exit 1) once every study named has had
	// its turn: a script that asked for figures must not carry on as if
	// they were there.
	var empty []string
	fig4 := o.gradcam == 0
	for _, name := range names {
		study, err := loadStudyArg(ctx, st, name)
		if err != nil {
			return err
		}
		t, l, err := report.StudyTable(ctx, st, study, o.profile, true)
		if err != nil {
			return err
		}
		for _, h := range t.Headline {
			fmt.Fprintf(io.Err, "plot: %s: %s\n", t.Study, h)
		}
		paths, err := writeStudyPlots(io, guard, t, l, o.out, formats)
		if err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		if len(paths) == 0 {
			empty = append(empty, fmt.Sprintf("%s (no finished runs of profile %s)", t.Study, t.Profile))
		}
		if !fig4 && len(paths) > 0 {
			// Figure 4 once: from the first study with a baseline and an
			// MKSMT run of one seed (it is the paper's one figure, not a
			// figure per study).
			wrote, err := writeGradCAM(ctx, st, io, guard, t, l, o.gradcam, o.out, formats)
			if err != nil {
				return fmt.Errorf("plot: %w", err)
			}
			fig4 = len(wrote) > 0
		}
	}
	if len(empty) > 0 {
		return fmt.Errorf("plot: nothing to draw for %s: run the study first (workbench run NAME), or name the profile that has runs (--profile)",
			strings.Join(empty, ", "))
	}
	return nil
}

// parsePlotFormats reads the comma-separated image formats of --flag.
func parsePlotFormats(verb, flagName, s string) ([]plot.Format, error) {
	var out []plot.Format
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		pf, err := plot.ParseFormat(f)
		if err != nil {
			return nil, fmt.Errorf("%s: --%s: %w", verb, flagName, err)
		}
		if !slices.Contains(out, pf) {
			out = append(out, pf)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: --%s names no format (allowed: png, svg or png,svg)", verb, flagName)
	}
	return out, nil
}

// writeStudyPlots writes every figure of one study in every format, says
// which files it wrote on Out and what it skipped on Err, and returns the
// paths.
func writeStudyPlots(io IO, g storeGuard, t *report.Table, l *report.Loaded, dir string, formats []plot.Format) ([]string, error) {
	figs, notes := plot.StudyFigures(t, report.Curves(l.Series, l.Spec.Variants))
	for _, n := range notes {
		fmt.Fprintf(io.Err, "plot: skipped: %s\n", n)
	}
	var paths []string
	for _, f := range figs {
		for _, format := range formats {
			path, err := saveFigure(g, "--out", f, dir, format)
			if err != nil {
				return paths, err
			}
			paths = append(paths, path)
			fmt.Fprintf(io.Out, "wrote %s\n", path)
		}
	}
	return paths, nil
}

// writeGradCAM writes Figure 4 of a study when it has a baseline and an
// MKSMT run of the same seed with checkpoints (see gradCAMFigure), and says
// why not otherwise. It returns the paths written.
func writeGradCAM(ctx context.Context, st *store.Store, io IO, g storeGuard, t *report.Table, l *report.Loaded, images int, dir string, formats []plot.Format) ([]string, error) {
	f, why, err := gradCAMFigure(ctx, st, t, l, images)
	if err != nil {
		return nil, err
	}
	if f == nil {
		fmt.Fprintf(io.Err, "plot: no Figure 4 for %s: %s\n", t.Study, why)
		return nil, nil
	}
	var paths []string
	for _, format := range formats {
		path, err := saveFigure(g, "--out", f, dir, format)
		if err != nil {
			return paths, err
		}
		paths = append(paths, path)
		fmt.Fprintf(io.Out, "wrote %s\n", path)
	}
	return paths, nil
}

// fig4Name is the file stem of Figure 4, whichever study's runs it shows.
const fig4Name = "fig4-gradcam"

// gradCAMFigure draws the paper's Figure 4 for a study: Grad-CAM at S2, S3
// and S4 of a baseline run (steps 0) and an MKSMT run (two-step, sync,
// decision distillation) of the same seed, from their checkpoints, on the
// first test images of distinct classes. When the study has no such pair
// it returns a nil figure and the reason.
func gradCAMFigure(ctx context.Context, st *store.Store, t *report.Table, l *report.Loaded, images int) (*plot.Figure, string, error) {
	type model struct {
		variant string
		run     store.Run
		cfg     train.Config
		ckpt    string
	}
	// The run of each variant at each seed, with its config and checkpoint.
	find := func(variant string, seed int64) (model, bool, error) {
		id, ok := l.RunIDs[variant][seed]
		if !ok {
			return model{}, false, nil
		}
		r, err := st.Run(ctx, id)
		if err != nil {
			return model{}, false, err
		}
		var cfg train.Config
		if err := json.Unmarshal([]byte(r.Config), &cfg); err != nil {
			return model{}, false, fmt.Errorf("run %d: config: %w", id, err)
		}
		m := model{variant: variant, run: r, cfg: cfg, ckpt: st.CheckpointPath(id)}
		if _, err := os.Stat(m.ckpt); err != nil {
			return m, false, nil
		}
		return m, true, nil
	}
	isBaseline := func(c train.Config) bool { return c.Steps == 0 }
	isMKSMT := func(c train.Config) bool { return c.Steps == 2 && c.Mode == "sync" && c.Distill == "decision" }
	var seeds []int64
	for _, r := range t.Rows {
		for s := range l.RunIDs[r.Variant] {
			if !slices.Contains(seeds, s) {
				seeds = append(seeds, s)
			}
		}
	}
	slices.Sort(seeds)
	var base, mk model
	found := false
	for _, seed := range seeds {
		var b, m model
		var hasB, hasM bool
		for _, r := range t.Rows {
			x, ok, err := find(r.Variant, seed)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				continue
			}
			switch {
			case !hasB && isBaseline(x.cfg):
				b, hasB = x, true
			case !hasM && isMKSMT(x.cfg):
				m, hasM = x, true
			}
		}
		if hasB && hasM && b.cfg.Dataset == m.cfg.Dataset && b.cfg.ImageSize == m.cfg.ImageSize {
			base, mk, found = b, m, true
			break
		}
	}
	if !found {
		return nil, "it needs a finished baseline (steps 0) and MKSMT (two-step, sync, decision) run of one seed, with checkpoints", nil
	}
	ds, err := data.Open(base.cfg.Dataset, base.cfg.ImageSize)
	if err != nil {
		return nil, "", fmt.Errorf("figure 4 of %s: %w", t.Study, err)
	}
	// The first test images of distinct classes.
	var idx []int
	seen := map[int]bool{}
	for i := 0; i < ds.Len(data.Test) && len(idx) < images; i++ {
		if lab := ds.Label(data.Test, i); !seen[lab] {
			seen[lab] = true
			idx = append(idx, i)
		}
	}
	classes := ds.ClassNames()
	heads := make([]string, len(train.GradCAMStages))
	for k, s := range train.GradCAMStages {
		heads[k] = fmt.Sprintf("S%d", s)
	}
	var cams [2][]train.GradCAMResult
	for k, m := range []model{base, mk} {
		res, err := train.GradCAM(m.ckpt, m.cfg, ds, idx, nil)
		if err != nil {
			return nil, "", fmt.Errorf("figure 4 of %s: run %d (%s): %w", t.Study, m.run.ID, m.variant, err)
		}
		cams[k] = res
	}
	var rows []plot.CAMRow
	for i, img := range idx {
		raw, label := ds.Raw(data.Test, img)
		for k, m := range []model{base, mk} {
			r := cams[k][i]
			maps := map[string]plot.CAM{}
			for h, name := range heads {
				v := make([]float64, len(r.Maps[h]))
				for j, x := range r.Maps[h] {
					v[j] = float64(x)
				}
				maps[name] = plot.CAM{W: r.W, H: r.H, Values: v}
			}
			rows = append(rows, plot.CAMRow{
				Label: fmt.Sprintf("%s\ntest #%d: %s\npredicted %s", m.variant, img, className(classes, label), className(classes, r.Pred)),
				Image: raw, Maps: maps})
		}
	}
	title := fmt.Sprintf("Figure 4: Grad-CAM, %s vs %s (seed %d)", base.variant, mk.variant, base.run.Seed)
	f, err := plot.GradCAMGrid(fig4Name, title, heads, rows)
	if err != nil {
		return nil, "", err
	}
	return f, "", nil
}

func className(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprint(i)
}

// safeFileName keeps letters, digits, '-', '_' and '.' of a study name.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}
