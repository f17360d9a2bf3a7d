package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/report"
	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

func init() {
	register(&command{
		Name:    "reproduce",
		Summary: "run every paper study (reusing finished runs), print every table, write every plot",
		Run:     runReproduce,
	})
}

// reproduceOptions are the flags of `workbench reproduce`.
type reproduceOptions struct {
	db         string
	profile    string
	dir        string
	format     string
	out        string
	plotFormat string
	gradcam    int
	yes        bool
	// seedsNeeded prints the plan of seeds the inconclusive claims need
	// (runs to add, estimated time) instead of training.
	seedsNeeded bool
	trainFlags
}

// reproduceTrain trains the runs of reproduce; nil is the runner's default
// (data.Open + train.Run). Tests replace it.
var reproduceTrain runner.TrainFunc

func runReproduce(ctx context.Context, args []string, io IO) error {
	start := time.Now()
	var o reproduceOptions
	fs := flag.NewFlagSet("reproduce", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	fs.StringVar(&o.db, "db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB) (created if missing)")
	fs.StringVar(&o.profile, "profile", "", "smoke, quick or paper (default: each study's own, quick for the shipped ones)")
	fs.StringVar(&o.dir, "experiments", "experiments", "directory of the study specs; every spec with a paper table (table = ...) is run")
	o.trainFlags.register(fs)
	fs.StringVar(&o.format, "format", "term", "table format: term, md, csv, json or latex")
	fs.StringVar(&o.out, "out", "plots", "directory the figures are written to")
	fs.StringVar(&o.plotFormat, "plot-format", "png,svg", "image formats, comma-separated: png, svg")
	fs.IntVar(&o.gradcam, "gradcam", 4, "test images in Figure 4 (Grad-CAM, baseline vs MKSMT); 0: no Figure 4")
	fs.BoolVar(&o.yes, "yes", false, fmt.Sprintf("train more than %d runs without asking", confirmAbove))
	fs.BoolVar(&o.seedsNeeded, "seeds-needed", false, "train nothing: print how many seeds the inconclusive claims need (80% power), the runs that adds and an estimated time")
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench reproduce [--profile smoke|quick|paper] [--format term|md|csv|json|latex] [--out plots/] [--jobs N] [--db runs.db]")
		fmt.Fprintln(io.Err, "\nRuns every paper study in experiments/ (tables 7–11, Figure 3) through the runner, reusing")
		fmt.Fprintln(io.Err, "finished runs, then prints every table on stdout and writes every figure; progress goes to stderr.")
		fmt.Fprintln(io.Err, "With --seeds-needed it trains nothing and prints the seeds plan of the inconclusive claims (docs/verdicts.md).")
		fs.PrintDefaults()
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		fs.Usage()
		return fmt.Errorf("reproduce: unexpected argument %q (it runs every paper study in %s)", rest[0], o.dir)
	}
	if err := checkDBFlag("reproduce", o.db); err != nil {
		return err
	}
	format, err := report.ParseFormat(o.format)
	if err != nil {
		return fmt.Errorf("reproduce: --format: %w", err)
	}
	plotFormats, err := parsePlotFormats("reproduce", "plot-format", o.plotFormat)
	if err != nil {
		return err
	}
	if err := o.validate("reproduce"); err != nil {
		return err
	}
	if err := checkProfile("reproduce", o.profile); err != nil {
		return err
	}
	if err := checkRange("reproduce", "gradcam", o.gradcam, 0, maxGradCAM, "0: no Figure 4"); err != nil {
		return err
	}
	if err := checkRequired("reproduce", "experiments", o.dir, "experiments"); err != nil {
		return err
	}
	guard, err := newStoreGuard(o.db)
	if err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	// The figures come last: a bad --out must fail before any training.
	if err := guard.check("--out", o.out); err != nil {
		return fmt.Errorf("reproduce: %w", err)
	}
	studies, err := paperStudies(o.dir)
	if err != nil {
		return err
	}
	if o.seedsNeeded {
		return seedsPlan(ctx, io, o, studies)
	}
	// Expand every study before touching the database.
	version := runner.DetectVersion(".") // walks the training sources: once per command
	prov := version.Provenance()
	expanded := make([][]experiment.RunSpec, len(studies))
	total := 0
	for i, s := range studies {
		rs, err := s.Expand(experiment.ExpandOptions{Profile: o.profile, Fingerprint: datasetFingerprint, CodeVersion: version.Code})
		if err != nil {
			return err
		}
		expanded[i] = rs
		total += len(rs)
	}
	hashes := distinctRuns(expanded...)
	dbExisted := fileExists(o.db)
	if !dbExisted {
		if err := confirmRuns(io, "reproduce", len(hashes), o.yes); err != nil {
			return err
		}
	}
	progress := io
	progress.Out = io.Err // stdout carries the tables
	st, err := openForWrite(progress, o.db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if dbExisted {
		n, err := toTrain(ctx, st, hashes, false)
		if err != nil {
			return err
		}
		if err := confirmRuns(io, "reproduce", n, o.yes); err != nil {
			return err
		}
	}

	r, err := runner.New(ctx, st, runner.Options{Jobs: o.jobs, Provenance: &prov, Train: reproduceTrain, Progress: io.Err, TTY: io.IsTTY,
		CheckpointEvery: o.checkpointEvery, DropFinishedCheckpoints: o.dropCheckpoints})
	if err != nil {
		return err
	}
	reused := 0
	var busy []int64
	var submitErr error
	for i, s := range studies {
		p, err := r.SubmitStudy(ctx, s, expanded[i], false)
		if err != nil {
			submitErr = err
			break
		}
		reused += len(p.Reused)
		busy = append(busy, p.Busy...)
	}
	if submitErr == nil {
		r.Wait()
	}
	outcomes, closeErr := r.Close()
	if submitErr != nil {
		// Stopped while queueing: the runs queued so far are reported too.
		fmt.Fprint(io.Err, runner.NotFinished(outcomes))
		return errors.Join(submitErr, closeErr)
	}
	tally := tallyOutcomes(outcomes, busy)
	fmt.Fprintf(io.Err, "reproduce: %s\n", tally.line(reused))
	fmt.Fprint(io.Err, runner.NotFinished(outcomes))
	runErr := errors.Join(tally.err(), closeErr)
	if ctx.Err() != nil {
		return errors.Join(runErr, errors.New("reproduce interrupted: run it again to continue (finished runs are reused, interrupted ones resume)"))
	}
	trained := time.Since(start)

	// Every table, then every figure.
	var tables []*report.Table
	var loaded []*report.Loaded
	for _, s := range studies {
		// The profile just trained, never another one picked for an empty
		// table (StudyTable's default): reproduce shows what it ran.
		t, l, err := report.StudyTable(ctx, st, s, trainedProfile(o.profile, s), true)
		if err != nil {
			return errors.Join(runErr, err)
		}
		tables, loaded = append(tables, t), append(loaded, l)
	}
	// One family for Holm's adjustment: every claim of every table.
	report.AdjustClaims(tables...)
	if err := report.RenderWidth(io.Out, format, termRenderer(io), tableWidth(io), tables...); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(io.Err, "reproduce: %s\n", report.CountVerdicts(tables...))
	if len(report.SeedNeeds(tables...)) > 0 {
		fmt.Fprintln(io.Err, "reproduce: workbench reproduce --seeds-needed prints the runs that would decide the inconclusive claims")
	}
	var written []string
	for i, t := range tables {
		paths, err := writeStudyPlots(progress, guard, t, loaded[i], o.out, plotFormats)
		if err != nil {
			return errors.Join(runErr, fmt.Errorf("reproduce: %w", err))
		}
		written = append(written, paths...)
	}
	if o.gradcam > 0 {
		// Figure 4 once: from the first study with a baseline and an MKSMT run.
		done := false
		for i, t := range tables {
			f, _, err := gradCAMFigure(ctx, st, t, loaded[i], o.gradcam)
			if err != nil {
				return errors.Join(runErr, err)
			}
			if f == nil {
				continue
			}
			for _, pf := range plotFormats {
				path, err := saveFigure(guard, "--out", f, o.out, pf)
				if err != nil {
					return errors.Join(runErr, fmt.Errorf("reproduce: %w", err))
				}
				written = append(written, path)
				fmt.Fprintf(io.Err, "wrote %s\n", path)
			}
			done = true
			break
		}
		if !done {
			fmt.Fprintln(io.Err, "reproduce: no Figure 4: no study has a finished baseline and MKSMT run of one seed with checkpoints")
		}
	}
	fmt.Fprintf(io.Err, "reproduce: %d studies (%d variant × seed cells) in %s, %s of it training; %d figures in %s\n",
		len(studies), total, report.Duration(time.Since(start)), report.Duration(trained),
		len(written), filepath.Clean(o.out))
	return runErr
}

// trainedProfile is the profile reproduce trains a study with: --profile,
// else the study's own (else the default).
func trainedProfile(flag string, s *experiment.Study) string {
	if flag != "" {
		return flag
	}
	return report.StudyProfile(s)
}

// outcomeTally counts how the runs of one reproduce ended.
type outcomeTally struct {
	count     map[store.Status]int
	failed    []int64
	shared    int // cells of a study served by a run another study queued here
	elsewhere int // runs left to another live workbench process
}

// tallyOutcomes counts outcomes; busy are the runs Submit found already
// queued or running: queued by an earlier study of this reproduce (they
// have an outcome here) or running in another process.
func tallyOutcomes(outcomes []runner.Outcome, busy []int64) outcomeTally {
	t := outcomeTally{count: map[store.Status]int{}}
	here := map[int64]bool{}
	for _, o := range outcomes {
		t.count[o.Status]++
		here[o.RunID] = true
		if o.Status == store.Failed {
			t.failed = append(t.failed, o.RunID)
		}
	}
	for _, id := range busy {
		if here[id] {
			t.shared++
		} else {
			t.elsewhere++
		}
	}
	return t
}

func (t outcomeTally) line(reused int) string {
	s := fmt.Sprintf("trained %d run(s), reused %d finished, %d shared between studies", t.count[store.Finished], reused, t.shared)
	for _, st := range []store.Status{store.Diverged, store.Failed, store.Interrupted} {
		if n := t.count[st]; n > 0 {
			s += fmt.Sprintf(", %d %s", n, st)
		}
	}
	if t.elsewhere > 0 {
		s += fmt.Sprintf(", %d still running in another workbench process (not in the tables yet)", t.elsewhere)
	}
	return s
}

// err says which runs need attention; diverged runs are results, not errors.
func (t outcomeTally) err() error {
	var errs []error
	if len(t.failed) > 0 {
		errs = append(errs, fmt.Errorf("%d run(s) failed (%v): see workbench show RUN; the tables leave them out", len(t.failed), t.failed))
	}
	if n := t.count[store.Interrupted]; n > 0 {
		errs = append(errs, fmt.Errorf("%d run(s) interrupted: run workbench reproduce again to continue them", n))
	}
	if n := t.count[store.Queued]; n > 0 {
		errs = append(errs, fmt.Errorf("%d run(s) could not be started or recorded: run workbench reproduce again", n))
	}
	return errors.Join(errs...)
}

// paperStudies loads the specs in dir that render a paper table, in the
// paper's order (tables 7–11, then Figure 3).
func paperStudies(dir string) ([]*experiment.Study, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil {
		return nil, err
	}
	var out []*experiment.Study
	for _, f := range files {
		s, err := experiment.Load(f)
		if err != nil {
			return nil, err
		}
		if s.Table != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("reproduce: no study spec with a paper table in %s", dir)
	}
	slices.SortStableFunc(out, func(a, b *experiment.Study) int {
		return slices.Index(experiment.Tables, a.Table) - slices.Index(experiment.Tables, b.Table)
	})
	return out, nil
}

// seedsPlan prints, without training, what the inconclusive claims of the
// paper studies need: per study and variant the seeds (80 % power at the
// observed spread, Holm's family of every claim), the runs that adds —
// runs shared between studies and finished runs counted once — and an
// estimated time from the median train time of the variant's finished runs.
func seedsPlan(ctx context.Context, io IO, o reproduceOptions, studies []*experiment.Study) error {
	if !fileExists(o.db) {
		return fmt.Errorf("reproduce --seeds-needed: %s does not exist: the plan needs the spread of finished runs (run workbench reproduce first)", o.db)
	}
	st, err := openForRead(io, o.db)
	if err != nil {
		return err
	}
	defer st.Close()
	tables := make([]*report.Table, len(studies))
	loaded := make([]*report.Loaded, len(studies))
	byName := map[string]int{}
	for i, s := range studies {
		if tables[i], loaded[i], err = report.StudyTable(ctx, st, s, trainedProfile(o.profile, s), false); err != nil {
			return err
		}
		byName[s.Name] = i
	}
	report.AdjustClaims(tables...)
	done, err := st.Runs(ctx, store.RunFilter{Statuses: []store.Status{store.Finished}})
	if err != nil {
		return err
	}
	finished := map[string]bool{}
	for _, r := range done {
		finished[r.ConfigHash] = true
	}
	tally := report.CountVerdicts(tables...)
	needs := report.SeedNeeds(tables...)
	fmt.Fprintf(io.Out, "Seeds needed for %d%% power (paired seeds; Holm family of %d distinct claims; rules: docs/verdicts.md)\n",
		int(report.TargetPower*100), tally.Distinct)
	if len(needs) == 0 {
		fmt.Fprintln(io.Out, "no inconclusive claim has a spread to plan from: nothing to add")
		return nil
	}
	version := runner.DetectVersion(".")
	planned := map[string]bool{}
	expanded := map[string][]experiment.RunSpec{} // study/seeds → runs
	var total, unknown int
	var secs float64
	fmt.Fprintf(io.Out, "%-18s %-28s %5s %6s %9s %10s  %s\n", "STUDY", "VARIANT", "HAS", "NEEDS", "NEW RUNS", "EST.", "CLAIMS")
	beyond := 0
	for _, n := range needs {
		study := studies[byName[n.Study]]
		claims := fmt.Sprintf("%d claim(s)", len(n.Claims))
		if len(n.Beyond) > 0 {
			beyond += len(n.Beyond)
			claims += fmt.Sprintf("; %d more need >%d seeds: not planned", len(n.Beyond), report.MaxSeedsNeeded)
		}
		if n.Seeds == 0 {
			fmt.Fprintf(io.Out, "%-18s %-28s %5d %6s %9s %10s  %s\n", n.Study, n.Variant, n.Has,
				fmt.Sprintf(">%d", report.MaxSeedsNeeded), "—", "—", claims)
			continue
		}
		seeds := extendSeeds(study.Seeds, n.Seeds)
		key := fmt.Sprintf("%s/%d", n.Study, len(seeds))
		rs, ok := expanded[key]
		if !ok {
			if rs, err = study.Expand(experiment.ExpandOptions{Profile: o.profile, Seeds: seeds, Fingerprint: datasetFingerprint,
				CodeVersion: version.Code}); err != nil {
				return err
			}
			expanded[key] = rs
		}
		added := 0
		for _, r := range rs {
			if r.Variant == n.Variant && !finished[r.Hash] && !planned[r.Hash] {
				planned[r.Hash] = true
				added++
			}
		}
		total += added
		est := "?"
		if m, ok := medianTrainSeconds(loaded[byName[n.Study]].Results, n.Variant); ok {
			secs += m * float64(added)
			est = report.Duration(time.Duration(m * float64(added) * float64(time.Second)))
		} else if added > 0 {
			unknown += added
		}
		fmt.Fprintf(io.Out, "%-18s %-28s %5d %6d %9d %10s  %s\n", n.Study, n.Variant, n.Has, n.Seeds, added, est, claims)
	}
	line := fmt.Sprintf("total: %d new run(s) (shared and finished runs counted once), about %s on one worker",
		total, report.Duration(time.Duration(secs*float64(time.Second))))
	if unknown > 0 {
		line += fmt.Sprintf(", plus %d run(s) of variants with no finished run to time", unknown)
	}
	if beyond > 0 {
		line += fmt.Sprintf("; %d claim × variant pair(s) need more than %d seeds at the observed spread and are left out", beyond, report.MaxSeedsNeeded)
	}
	fmt.Fprintln(io.Out, line)
	fmt.Fprintf(io.Out, "to run them: add seeds to the studies' specs (seeds = [...]) and run workbench reproduce\n")
	return nil
}

// extendSeeds is seeds followed by the next unused integers until it has n.
func extendSeeds(seeds []int64, n int) []int64 {
	out := slices.Clone(seeds)
	next := int64(1)
	for _, s := range seeds {
		next = max(next, s+1)
	}
	for len(out) < n {
		out = append(out, next)
		next++
	}
	return out
}

// medianTrainSeconds is the median train time of variant's finished runs.
func medianTrainSeconds(results []report.RunResult, variant string) (float64, bool) {
	var xs []float64
	for _, r := range results {
		if v, ok := r.Summaries[train.KeyTrainSeconds]; r.Variant == variant && ok && v > 0 {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return 0, false
	}
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2], true
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2, true
}
