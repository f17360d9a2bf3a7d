package tui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	bcursor "github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/mksmt/workbench/internal/data"
	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/runspec"
	"github.com/mksmt/workbench/internal/store"
)

type fieldKind int

const (
	textField   fieldKind = iota
	choiceField           // exactly one option
	multiField            // any number of options (an ablation axis)
)

// formField is one row of the builder form.
type formField struct {
	key, label string
	kind       fieldKind
	input      textinput.Model // textField
	options    []string        // choiceField, multiField
	optLabels  []string
	chosen     []bool // multiField
	choice     int    // choiceField
	optCur     int
}

// Field keys of the builder form. The axes use runspec.Config's toml names.
const (
	fName     = "name"
	fDataset  = "dataset"
	fBackbone = "backbone"
	fProfile  = "profile"
	fSeeds    = "seeds"
	fMetrics  = "metrics"
	fUse      = "use"      // only when filled from a spec: its variant list or the axes
	fVariants = "variants" // only when filled from a spec: its variants, each on or off
	fSteps    = "steps"
	fMode     = "mode"
	fDistill  = "distill"
	fTemp     = "temperature"
	fLambda1  = "lambda1"
	fLambda2  = "lambda2"
	fAxes     = "axes"
)

// axesHint names the issue-12 settings a researcher can cross in the
// "more axes" row, with their values (the first is the default).
const axesHint = "KEY=V1|V2; … e.g. kd_detach=true|false; optimizer=skip-unreached|pytorch-shared; " +
	"updates=1|2|3; kd_scale_t2; three_step_pairs=4>2,4>3|3>2,4>3; async_order=ce-first|kd-first; " +
	"decay_norms; lr_schedule=cosine|onecycle; resize; clip_norm"

func newTextField(key, label, value, placeholder string) formField {
	ti := textinput.New()
	ti.Prompt = ""
	ti.CharLimit = 120
	ti.Placeholder = placeholder
	ti.Cursor.SetMode(bcursor.CursorStatic)
	ti.SetValue(value)
	return formField{key: key, label: label, kind: textField, input: ti}
}

func newChoice(key, label string, options []string, def string) formField {
	f := formField{key: key, label: label, kind: choiceField, options: options, optLabels: options}
	f.choice = max(slices.Index(options, def), 0)
	f.optCur = f.choice
	return f
}

func newMulti(key, label string, options, labels []string, on ...string) formField {
	f := formField{key: key, label: label, kind: multiField, options: options, optLabels: labels, chosen: make([]bool, len(options))}
	for i, o := range options {
		f.chosen[i] = slices.Contains(on, o)
	}
	return f
}

// value is the field's text (textField) or chosen option (choiceField).
func (f *formField) value() string {
	switch f.kind {
	case textField:
		return strings.TrimSpace(f.input.Value())
	case choiceField:
		return f.options[f.choice]
	}
	return ""
}

// values are the chosen options of a multiField.
func (f *formField) values() []string {
	var out []string
	for i, o := range f.options {
		if f.chosen[i] {
			out = append(out, o)
		}
	}
	return out
}

// Values of the fUse field.
const (
	useList = "its list"
	useAxes = "the axes, crossed"
)

// defaultMetrics are the metrics a new study tabulates.
const defaultMetrics = "acc.S3, acc.S4"

// builderPlan is what the form currently defines: the study (nil when the
// form is invalid), its runs, and what the user must know.
type builderPlan struct {
	study    *experiment.Study
	text     []byte // the spec file as it will be saved
	runs     []experiment.RunSpec
	errs     []string
	skipped  []string // combinations the spec parser rejects, with why
	merged   int      // combinations that train the same run as an earlier one
	estimate string   // the expected time
	basis    string   // what the estimate rests on
}

// throughputEvery is how many refreshes pass between reloads of the
// measured throughput behind the time estimate.
const throughputEvery = 10

type throughputLoaded struct {
	samples []throughputSample
	err     error
}

// throughputSample is one finished run's measured speed and its network.
type throughputSample struct {
	params       map[string]string
	imagesPerSec float64
	seconds      float64
}

type savedMsg struct {
	path string
	run  bool
	err  error
}

// builderScreen is the ablation builder: a form that defines a study,
// shows how many runs it expands to and how long they should take, checks
// it with the spec parser, saves experiments/NAME.toml and enqueues it.
type builderScreen struct {
	fields  []formField
	focus   int
	editing bool // the focused text field takes the keys (after enter or i)
	plan    builderPlan
	samples []throughputSample
	loads   int
	specDir string
	saved   string // last path saved

	// source is the study the form was filled from (nil for a new one):
	// its variants, paper figures, claims, [base], title and table are
	// kept. editPath is its spec file when editing in place ("" for a
	// copy or a new study).
	source   *experiment.Study
	editPath string
}

func newBuilder(be *backend) *builderScreen {
	b := &builderScreen{specDir: be.specDir}
	b.clear()
	return b
}

// clear puts the form back to its defaults: the paper's central ablation,
// baseline against two-step MKSMT with decision distillation at T = 1.
func (b *builderScreen) clear() {
	def := runspec.DefaultConfig()
	profiles := experiment.ProfileNames()
	b.fields = []formField{
		newTextField(fName, "name", "", "letters, digits, - and _"),
		newTextField(fDataset, "data set", def.Dataset, "synthetic, cub:PATH, fashion-mnist, ..."),
		newChoice(fBackbone, "backbone", []string{"resnet", "swin"}, def.Backbone),
		newChoice(fProfile, "profile", profiles, experiment.DefaultProfile),
		newTextField(fSeeds, "seeds", "1,2,3", "comma-separated integers"),
		newTextField(fMetrics, "metrics", defaultMetrics, "metric keys to tabulate, comma-separated: acc.S4, acc.S3, params.total, …"),
		newMulti(fSteps, "steps", []string{"0", "1", "2", "3"}, []string{"0 baseline", "1", "2 MKSMT", "3"}, "0", "2"),
		newMulti(fMode, "mode", []string{"sync", "async"}, nil, def.Mode),
		newMulti(fDistill, "distill", []string{"decision", "feature", "none"}, nil, def.Distill),
		newTextField(fTemp, "temperature", "1", "T > 0, comma-separated: 1,2,4"),
		newTextField(fLambda1, "λ1", "1", "comma-separated"),
		newTextField(fLambda2, "λ2", "1", "comma-separated"),
		newTextField(fAxes, "more axes", "", axesHint),
	}
	for i := range b.fields {
		if b.fields[i].optLabels == nil {
			b.fields[i].optLabels = b.fields[i].options
		}
	}
	b.focus = 0
	b.editing = false
	b.saved = ""
	b.source, b.editPath = nil, ""
}

// has reports whether the form has a field (the variant list exists only
// when the form was filled from a spec).
func (b *builderScreen) has(key string) bool {
	return slices.ContainsFunc(b.fields, func(f formField) bool { return f.key == key })
}

// fromList reports whether the variants come from the spec's list (not
// from crossing the axes).
func (b *builderScreen) fromList() bool {
	return b.source != nil && b.has(fUse) && b.field(fUse).value() == useList
}

func (b *builderScreen) field(key string) *formField {
	for i := range b.fields {
		if b.fields[i].key == key {
			return &b.fields[i]
		}
	}
	panic("tui: no builder field " + key)
}

func (b *builderScreen) title() string { return "Builder" }

// scopes: while a field is edited its keys come first and every other
// key is typed into it; otherwise the form's keys, then the global ones
// (numbers, q, ?) whatever field has the focus.
func (b *builderScreen) scopes() []Scope {
	if b.editing {
		return []Scope{ScopeEdit, ScopeBuilder}
	}
	return []Scope{ScopeBuilder}
}

func (b *builderScreen) typing() bool { return b.editing }

// leave stops editing when the user switches to another screen.
func (b *builderScreen) leave() { b.stopEditing() }

// edit starts editing the focused text field, the cursor at its end.
func (b *builderScreen) edit() tea.Cmd {
	f := &b.fields[b.focus]
	if f.kind != textField {
		return nil
	}
	b.editing = true
	f.input.CursorEnd()
	return f.input.Focus()
}

func (b *builderScreen) stopEditing() {
	b.editing = false
	b.fields[b.focus].input.Blur()
}

// reset empties the form and focuses the name (not editing it: enter does).
func (b *builderScreen) reset(m *Model) tea.Cmd {
	b.clear()
	b.replan()
	return nil
}

// fill sets the form from a spec file. The variants stay a list, each on
// or off (its [[variant]] entries and [grid] as written while all are on),
// and the study keeps its paper figures, claims, [base], title, table and
// description; the axes rows are also filled, with every value the
// variants use, for crossing them instead. Editing (copy=false) saves
// back to the same file; a copy gets a "-copy" name and a file of its own.
func (b *builderScreen) fill(m *Model, path string, copy bool) tea.Cmd {
	st, err := experiment.Load(path)
	if err != nil {
		m.setStatus("", err)
		return nil
	}
	b.clear()
	b.source = st
	name := st.Name
	if copy {
		name += "-copy"
	} else {
		b.editPath = path
	}
	b.field(fName).input.SetValue(name)
	ds := b.field(fDataset)
	ds.input.SetValue(st.Dataset)
	if st.Dataset == "" {
		ds.input.Placeholder = "(the profile's data set)"
	}
	for _, kv := range []struct{ key, v string }{{fBackbone, st.Backbone}, {fProfile, st.Profile}} {
		f := b.field(kv.key)
		if i := slices.Index(f.options, kv.v); i >= 0 {
			f.choice, f.optCur = i, i
		}
	}
	seeds := make([]string, len(st.Seeds))
	for i, s := range st.Seeds {
		seeds[i] = strconv.FormatInt(s, 10)
	}
	b.field(fSeeds).input.SetValue(strings.Join(seeds, ","))
	b.field(fMetrics).input.SetValue(strings.Join(st.Metrics, ", "))
	def := runspec.DefaultConfig()
	defaults := map[string]any{fSteps: def.Steps, fMode: def.Mode, fDistill: def.Distill,
		fTemp: def.Temperature, fLambda1: def.Lambda1, fLambda2: def.Lambda2}
	for key, dv := range defaults {
		seen := map[string]bool{}
		var order []string
		add := func(v any) {
			s := fmt.Sprint(v)
			if !seen[s] {
				seen[s] = true
				order = append(order, s)
			}
		}
		for _, v := range st.Variants {
			switch {
			case v.Overrides[key] != nil:
				add(v.Overrides[key])
			case st.Base[key] != nil:
				add(st.Base[key])
			default:
				add(dv)
			}
		}
		f := b.field(key)
		if f.kind == multiField {
			for i, o := range f.options {
				f.chosen[i] = seen[o]
			}
		} else {
			f.input.SetValue(strings.Join(order, ","))
		}
	}
	// The variant list and the choice between it and the axes go after
	// the metrics, before the axes.
	labels := st.Labels()
	list := newMulti(fVariants, "variants", labels, labels, labels...)
	use := newChoice(fUse, "variants from", []string{useList, useAxes}, useList)
	at := slices.IndexFunc(b.fields, func(f formField) bool { return f.key == fMetrics }) + 1
	b.fields = slices.Insert(b.fields, at, list, use)
	b.focus = 0
	b.replan()
	what := "editing " + path + " (ctrl+s saves it back)"
	if copy {
		what = "a copy of " + path
	}
	m.setStatus(fmt.Sprintf("%s: %d variant(s), %d paper figure(s), %d claim(s) kept", what, len(st.Variants), len(st.Paper), len(st.Claims)), nil)
	return nil
}

func (b *builderScreen) load(m *Model) tea.Cmd {
	if b.plan.study == nil && len(b.plan.errs) == 0 {
		b.replan()
	}
	// Throughput changes only when runs finish: refresh now and then.
	b.loads++
	if b.samples != nil && b.loads%throughputEvery != 1 {
		return nil
	}
	st, ctx := m.be.store, m.ctx
	return func() tea.Msg {
		s, err := loadThroughput(ctx, st)
		return throughputLoaded{samples: s, err: err}
	}
}

// loadThroughput reads the measured speed of the newest finished runs.
func loadThroughput(ctx context.Context, st Store) ([]throughputSample, error) {
	runs, err := st.Runs(ctx, store.RunFilter{Statuses: []store.Status{store.Finished}, Limit: 200, Newest: true})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	params, err := st.Params(ctx, ids...)
	if err != nil {
		return nil, err
	}
	sums, err := st.Summaries(ctx, ids...)
	if err != nil {
		return nil, err
	}
	out := []throughputSample{}
	for _, id := range ids {
		ips, ok := sums[id][runspec.KeyImagesPerSec]
		if !ok || !(ips > 0) {
			continue
		}
		out = append(out, throughputSample{params: params[id], imagesPerSec: ips, seconds: sums[id][runspec.KeyTrainSeconds]})
	}
	return out, nil
}

func (b *builderScreen) update(m *Model, msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case throughputLoaded:
		if msg.err == nil {
			b.samples = msg.samples
			b.replan()
		}
	case savedMsg:
		if msg.err != nil {
			m.setStatus("", msg.err)
			return nil
		}
		b.saved = msg.path
		if msg.run {
			// Saved and queued: watch it train.
			return tea.Batch(m.enqueue(msg.path, "", false), m.switchTo(screenLive))
		}
		m.setStatus("saved "+msg.path+" — ctrl+r runs it", nil)
	case tea.KeyMsg:
		f := &b.fields[b.focus]
		if !b.editing || f.kind != textField {
			return nil
		}
		return typeInto(&f.input, msg, b.replan)
	}
	return nil
}

// moveFocus moves the focus d visible fields on (wrapping), editing
// nothing.
func (b *builderScreen) moveFocus(d int) tea.Cmd {
	n := len(b.fields)
	b.stopEditing()
	i := b.focus
	for range n {
		i = (i + d + n) % n
		if b.visible(i) {
			break
		}
	}
	b.focus = i
	return nil
}

// axisFields are the rows crossed into variants.
var axisFields = []string{fSteps, fMode, fDistill, fTemp, fLambda1, fLambda2, fAxes}

// visible reports whether field i is shown: with a spec's variant list in
// use the axes rows are hidden, with the axes in use the list is.
func (b *builderScreen) visible(i int) bool {
	k := b.fields[i].key
	switch {
	case b.source == nil:
		return true
	case b.fromList():
		return !slices.Contains(axisFields, k)
	}
	return k != fVariants
}

func (b *builderScreen) handle(m *Model, a Action) (tea.Cmd, bool) {
	f := &b.fields[b.focus]
	switch a {
	case actFieldNext:
		return b.moveFocus(1), true
	case actFieldPrev:
		return b.moveFocus(-1), true
	case actEditField:
		if f.kind == textField {
			return b.edit(), true
		}
		return b.handle(m, actToggle)
	case actEditDone, actBack:
		if !b.editing {
			return nil, false
		}
		b.stopEditing()
		return nil, true
	case actOptionLeft, actOptionRight:
		if f.kind == textField {
			return nil, true
		}
		d := 1
		if a == actOptionLeft {
			d = -1
		}
		f.optCur = (f.optCur + d + len(f.options)) % len(f.options)
		if f.kind == choiceField {
			f.choice = f.optCur
			b.replan()
		}
		return nil, true
	case actToggle:
		switch f.kind {
		case multiField:
			f.chosen[f.optCur] = !f.chosen[f.optCur]
			b.replan()
		case choiceField:
			f.optCur = (f.optCur + 1) % len(f.options)
			f.choice = f.optCur
			b.replan()
		}
		return nil, true
	case actSave, actSaveRun:
		b.stopEditing()
		return b.save(m, a == actSaveRun), true
	}
	return nil, false
}

// save writes experiments/NAME.toml (asking before it replaces a file) and,
// with run, hands it to the runner.
func (b *builderScreen) save(m *Model, run bool) tea.Cmd {
	b.replan()
	p := b.plan
	if p.study == nil {
		m.setStatus("", fmt.Errorf("the study is not valid: %s", firstOr(p.errs, "fix the form")))
		return nil
	}
	if run && m.be.runner == nil {
		m.setStatus("", errNoRunner)
		return nil
	}
	path := b.savePath(p.study.Name)
	text := p.text
	write := func() tea.Cmd {
		return func() tea.Msg {
			// Whole or not at all: a full disk keeps the previous spec.
			if err := m.be.writeFile(path, text); err != nil {
				return savedMsg{err: fmt.Errorf("save study: %w", err)}
			}
			return savedMsg{path: path, run: run}
		}
	}
	if old, err := os.ReadFile(path); err == nil {
		if string(old) == string(text) {
			return write()
		}
		what := "Replace"
		if run {
			what = "Replace and run"
		}
		m.ask(fmt.Sprintf("%s %s?\nThe file exists and differs from this form.", what, path), write)
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		m.setStatus("", fmt.Errorf("save study: %w", err))
		return nil
	}
	return write()
}

func firstOr(l []string, def string) string {
	if len(l) > 0 {
		return l[0]
	}
	return def
}

// replan rebuilds the study from the form and validates it through the
// spec parser (experiment.Encode parses what it writes) and the expansion
// with the chosen profile.
func (b *builderScreen) replan() {
	b.plan = planStudy(b, b.samples)
}

// parseFloats parses a comma-separated list of numbers, without repeats.
func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", part)
		}
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("give at least one value")
	}
	return out, nil
}

func fmtFloats(xs []float64) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return out
}

func parseSeeds(s string) ([]int64, error) {
	var out []int64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not an integer", part)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, errors.New("give at least one seed")
	}
	return out, nil
}

// combo is one point of the ablation grid.
type combo struct {
	steps            int
	mode, distill    string
	temp, lam1, lam2 float64
}

// canonical applies experiment.Canonical to the combo's settings, so that
// combinations that train the same run collapse into one.
func (c combo) canonical() combo {
	cfg := runspec.DefaultConfig()
	cfg.Steps, cfg.Mode, cfg.Distill = c.steps, c.mode, c.distill
	cfg.Temperature, cfg.Lambda1, cfg.Lambda2 = c.temp, c.lam1, c.lam2
	cfg = experiment.Canonical(cfg)
	return combo{cfg.Steps, cfg.Mode, cfg.Distill, cfg.Temperature, cfg.Lambda1, cfg.Lambda2}
}

var stepNames = []string{"baseline", "single-step", "two-step", "three-step"}

// label names a combination with the workbench's variant vocabulary
// (baseline, two-step, two-step-nokd, ...), adding only what differs
// from the defaults. It is a valid variant label (experiment.ValidName).
func (c combo) label() string {
	def := runspec.DefaultConfig()
	l := stepNames[c.steps]
	if c.mode != def.Mode {
		l += "-" + c.mode
	}
	switch c.distill {
	case "none":
		if c.steps > 0 {
			l += "-nokd"
		}
	case "feature":
		l += "-feature"
	}
	num := func(x float64) string {
		return strings.NewReplacer(".", "p", "-", "m", "+", "").Replace(strconv.FormatFloat(x, 'g', -1, 64))
	}
	if c.temp != def.Temperature {
		l += "-T" + num(c.temp)
	}
	if c.lam1 != def.Lambda1 {
		l += "-l1_" + num(c.lam1)
	}
	if c.lam2 != def.Lambda2 {
		l += "-l2_" + num(c.lam2)
	}
	return l
}

func (c combo) overrides() map[string]any {
	return map[string]any{fSteps: c.steps, fMode: c.mode, fDistill: c.distill,
		fTemp: c.temp, fLambda1: c.lam1, fLambda2: c.lam2}
}

// planStudy turns the form into a study. Its variants are either the list
// of the spec the form was filled from (those left on), or the crossed
// axes (crossAxes). The study is then checked by the spec parser
// (experiment.Encode parses what it writes) and expanded with its profile.
func planStudy(b *builderScreen, samples []throughputSample) builderPlan {
	var p builderPlan
	name := b.field(fName).value()
	if err := experiment.ValidName(name); err != nil {
		p.errs = append(p.errs, "name: "+err.Error())
	}
	if _, err := parseSeeds(b.field(fSeeds).value()); err != nil {
		p.errs = append(p.errs, "seeds: "+err.Error())
	}
	if len(parseList(b.field(fMetrics).value())) == 0 {
		p.errs = append(p.errs, "metrics: give at least one metric key, e.g. acc.S4")
	}
	var st *experiment.Study
	if b.fromList() {
		st = b.listVariants(&p)
	} else {
		st = b.crossAxes(&p)
	}
	if st == nil || len(p.errs) > 0 {
		return p
	}
	if len(st.Variants) == 0 {
		p.errs = append(p.errs, "no valid combination of the chosen axes")
		return p
	}
	if st.Baseline == "" {
		st.Baseline = st.Variants[0].Label
	}
	text, err := experiment.Encode(st)
	if err != nil {
		p.errs = append(p.errs, specErrors(err)...)
		return p
	}
	parsed, err := experiment.Parse(b.savePath(name), text)
	if err != nil {
		p.errs = append(p.errs, specErrors(err)...)
		return p
	}
	runs, err := parsed.Expand(experiment.ExpandOptions{})
	if err != nil {
		p.errs = append(p.errs, err.Error())
		return p
	}
	p.study, p.text, p.runs = parsed, text, runs
	p.estimate, p.basis = estimate(runs, samples)
	return p
}

// baseStudy is the study the form's top rows define, without variants:
// name, data set, backbone, profile, seeds and metrics, and what the form
// was filled from keeps (its [base] settings always; its title, table,
// description, baseline, paper figures and claims when its variant list is
// used, because they name its variants). A data set, backbone or profile
// the spec left to the defaults stays unwritten while the form shows the
// default, so that the runs (and their reuse) do not change.
func (b *builderScreen) baseStudy() *experiment.Study {
	seeds, _ := parseSeeds(b.field(fSeeds).value())
	st := &experiment.Study{
		Name:     b.field(fName).value(),
		Dataset:  b.field(fDataset).value(),
		Backbone: b.field(fBackbone).value(),
		Profile:  b.field(fProfile).value(),
		Seeds:    seeds,
		Metrics:  parseList(b.field(fMetrics).value()),
	}
	src := b.source
	if src == nil {
		return st
	}
	if src.Backbone == "" && st.Backbone == runspec.DefaultConfig().Backbone {
		st.Backbone = ""
	}
	if src.Profile == "" && st.Profile == experiment.DefaultProfile {
		st.Profile = ""
	}
	st.Base = maps.Clone(src.Base)
	if b.fromList() {
		st.Title, st.Description, st.Table = src.Title, src.Description, src.Table
		st.Baseline = src.Baseline
		st.Paper = slices.Clone(src.Paper)
		st.Claims = slices.Clone(src.Claims)
	}
	return st
}

// listVariants is the study with the variants of the spec's list that are
// on, in their order. With all on, the spec's [[variant]] entries and
// [grid] are written as they were.
func (b *builderScreen) listVariants(p *builderPlan) *experiment.Study {
	st := b.baseStudy()
	src := b.source
	on := b.field(fVariants).values()
	if len(on) == len(src.Variants) {
		st.Variants, st.Named, st.Grid = slices.Clone(src.Variants), slices.Clone(src.Named), slices.Clone(src.Grid)
	} else {
		for _, v := range src.Variants {
			if slices.Contains(on, v.Label) {
				st.Variants = append(st.Variants, v)
			}
		}
	}
	switch {
	case len(st.Variants) == 0:
		p.errs = append(p.errs, "variants: choose at least one (space toggles)")
	case !slices.Contains(on, st.Baseline):
		p.errs = append(p.errs, fmt.Sprintf("variants: the baseline %s is off; the deltas and claims compare against it", st.Baseline))
	}
	return st
}

// crossAxes is the study whose variants cross the chosen axis values:
// every combination becomes a named variant, except combinations the spec
// parser rejects (reported, e.g. async with fewer than two steps) and those
// that train the same run as an earlier one (merged, e.g. a temperature
// without distillation).
func (b *builderScreen) crossAxes(p *builderPlan) *experiment.Study {
	var steps []int
	for _, s := range b.field(fSteps).values() {
		n, _ := strconv.Atoi(s)
		steps = append(steps, n)
	}
	modes, distills := b.field(fMode).values(), b.field(fDistill).values()
	for _, ax := range []struct {
		name string
		n    int
	}{{"steps", len(steps)}, {"mode", len(modes)}, {"distill", len(distills)}} {
		if ax.n == 0 {
			p.errs = append(p.errs, ax.name+": choose at least one option (space toggles)")
		}
	}
	lists := map[string][]float64{}
	for _, k := range []string{fTemp, fLambda1, fLambda2} {
		f := b.field(k)
		vs, err := parseFloats(f.value())
		if err != nil {
			p.errs = append(p.errs, f.label+": "+err.Error())
		}
		lists[k] = vs
	}
	extra, err := parseExtraAxes(b.field(fAxes).value())
	if err != nil {
		p.errs = append(p.errs, "more axes: "+err.Error())
	}
	if len(p.errs) > 0 {
		return nil
	}

	var axes []string
	for _, ax := range []struct {
		name string
		vals []string
	}{
		{"steps", b.field(fSteps).values()}, {"mode", modes}, {"distill", distills},
		{"T", fmtFloats(lists[fTemp])}, {"λ1", fmtFloats(lists[fLambda1])}, {"λ2", fmtFloats(lists[fLambda2])},
	} {
		if len(ax.vals) > 1 {
			axes = append(axes, ax.name+" "+strings.Join(ax.vals, "/"))
		}
	}
	for _, ax := range extra {
		axes = append(axes, ax.key+" "+strings.Join(ax.texts, "/"))
	}
	title := "Ablation built in the TUI"
	if len(axes) > 0 {
		title += ": " + strings.Join(axes, " × ")
	}
	st := b.baseStudy()
	st.Title = title
	seen := map[string]bool{}
	for _, s := range steps {
		for _, mo := range modes {
			for _, d := range distills {
				for _, t := range lists[fTemp] {
					for _, l1 := range lists[fLambda1] {
						for _, l2 := range lists[fLambda2] {
							c := combo{s, mo, d, t, l1, l2}.canonical()
							for _, pt := range extraPoints(extra) {
								label := c.label() + pt.suffix
								if seen[label] {
									p.merged++
									continue
								}
								seen[label] = true
								over := c.overrides()
								for k, v := range pt.over {
									over[k] = v
								}
								v := experiment.Variant{Label: label, Overrides: over}
								if err := checkVariant(st, v); err != nil {
									p.skipped = append(p.skipped, fmt.Sprintf("%s: %s", combo{s, mo, d, t, l1, l2}.label()+pt.suffix, err))
									continue
								}
								st.Variants = append(st.Variants, v)
							}
						}
					}
				}
			}
		}
	}
	return st
}

// savePath is where the study is saved: the file being edited while the
// name is unchanged, else experiments/NAME.toml.
func (b *builderScreen) savePath(name string) string {
	if b.editPath != "" && b.source != nil && name == b.source.Name {
		return b.editPath
	}
	return filepath.Join(b.specDir, name+".toml")
}

// parseList splits a comma-separated list, dropping blanks.
func parseList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// checkVariant validates one variant alone, exactly as the spec parser does
// (Encode parses what it writes).
func checkVariant(st *experiment.Study, v experiment.Variant) error {
	one := *st
	one.Variants = []experiment.Variant{v}
	_, err := experiment.Encode(&one)
	if err == nil {
		return nil
	}
	var list experiment.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return errors.New(list[0].Message)
	}
	return err
}

// specErrors splits a parser error into its lines.
func specErrors(err error) []string {
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// defaultImagesPerSec is the training throughput assumed for a network no
// finished run has measured: the README's benchmark (the reference resnet,
// 2 CPU cores, 2026-11-26: 172 img/s), rounded.
const defaultImagesPerSec = 170

// netKeys are the params that set a network's size and so its speed.
var netKeys = []string{"backbone", "widths", "depths", "embed_dim", "heads", "batch_size", "image_size"}

// scheduleKeys are the params that change the work per image: heads
// trained, updates per batch.
var scheduleKeys = []string{"steps", "mode", "distill", "updates"}

// runEstimate is the time one run should take and what it rests on.
type runEstimate struct {
	seconds float64
	basis   string // the same text for runs estimated the same way
	ok      bool
}

// estimate says how long the runs should take and on what basis: per run,
// the median training time of finished runs with the same settings (network,
// schedule, data set, epochs) when there are some, else the images it
// trains (classes × images per class of its data set × epochs) over the
// median throughput measured for the same network and schedule, else for
// the same network, else a stated default. Runs on the same basis are
// counted together in the basis line.
func estimate(runs []experiment.RunSpec, samples []throughputSample) (text, basis string) {
	if samples == nil {
		return "estimating from the finished runs…", ""
	}
	if len(runs) == 0 {
		return "", ""
	}
	var total float64
	var order []string
	count := map[string]int{}
	for _, r := range runs {
		e := estimateRun(r.Config, samples)
		if !e.ok {
			return "no estimate: " + e.basis, ""
		}
		total += e.seconds
		if count[e.basis] == 0 {
			order = append(order, e.basis)
		}
		count[e.basis]++
	}
	secs := func(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }
	text = fmt.Sprintf("≈ %s for %d run(s), %s a run on average", fmtDuration(secs(total)), len(runs), fmtDuration(secs(total/float64(len(runs)))))
	parts := make([]string, len(order))
	for i, b := range order {
		parts[i] = b
		if len(order) > 1 {
			parts[i] = fmt.Sprintf("%d run(s): %s", count[b], b)
		}
	}
	return text, strings.Join(parts, "; ")
}

// estimateRun estimates one run (see estimate).
func estimateRun(cfg runspec.Config, samples []throughputSample) runEstimate {
	pr := experiment.Params(cfg)
	match := func(keys ...[]string) []throughputSample {
		var out []throughputSample
		for _, s := range samples {
			ok := true
			for _, ks := range keys {
				for _, k := range ks {
					if s.params[k] != pr[k] {
						ok = false
					}
				}
			}
			if ok {
				out = append(out, s)
			}
		}
		return out
	}
	var secs []float64
	for _, s := range match(netKeys, scheduleKeys, []string{"dataset", "epochs"}) {
		if s.seconds > 0 {
			secs = append(secs, s.seconds)
		}
	}
	if len(secs) > 0 {
		return runEstimate{seconds: median(secs), ok: true,
			basis: fmt.Sprintf("median time of %d identical finished run(s)", len(secs))}
	}
	classes, perClass, ok := trainImages(cfg.Dataset)
	if !ok {
		return runEstimate{basis: "the size of " + cfg.Dataset + " is known only once it is opened"}
	}
	images := float64(classes*perClass) * float64(cfg.Epochs)
	what := fmt.Sprintf("%d classes × %d images × %d epoch(s)", classes, perClass, cfg.Epochs)
	for _, tier := range []struct {
		keys [][]string
		name string
	}{
		{[][]string{netKeys, scheduleKeys}, "this network and schedule"},
		{[][]string{netKeys}, "this network"},
	} {
		same := match(tier.keys...)
		if len(same) == 0 {
			continue
		}
		rates := make([]float64, len(same))
		for i, s := range same {
			rates[i] = s.imagesPerSec
		}
		r := median(rates)
		return runEstimate{seconds: images / r, ok: true,
			basis: fmt.Sprintf("%s at %.0f img/s (median of %d finished run(s) of %s)", what, r, len(same), tier.name)}
	}
	return runEstimate{seconds: images / defaultImagesPerSec, ok: true,
		basis: fmt.Sprintf("%s at %d img/s, a default (no finished %s run of this size has measured its speed)", what, defaultImagesPerSec, cfg.Backbone)}
}

func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// fashionMNISTPerClass is Fashion-MNIST's training images per class (60,000
// over 10 classes).
const fashionMNISTPerClass = 6000

// trainImages is the number of classes and training images per class of a
// data set spec, when the spec alone tells (synthetic, with its defaults;
// Fashion-MNIST, capped by train_per_class); ok is false for data sets
// whose size is known only once opened.
func trainImages(spec string) (classes, perClass int, ok bool) {
	sp, err := data.ParseSpec(spec)
	if err != nil {
		return 0, 0, false
	}
	opt := func(key string, def int) int {
		if v, err := strconv.Atoi(sp.Options[key]); err == nil && v > 0 {
			return v
		}
		return def
	}
	switch sp.Kind {
	case data.KindSynthetic:
		return opt("classes", data.DefaultSyntheticClasses), opt("train", data.DefaultSyntheticTrain), true
	case data.KindFashionMNIST:
		return 10, min(opt("train_per_class", fashionMNISTPerClass), fashionMNISTPerClass), true
	}
	return 0, 0, false
}

func (b *builderScreen) view(m *Model, w, h int) string {
	var lines []string
	title, hint := "Define a study", " · enter edits a field · the axes are crossed"
	switch {
	case b.editPath != "":
		title = "Edit " + b.editPath
	case b.source != nil:
		title = "Copy of " + b.source.Name
	}
	if b.source != nil {
		hint = " · enter edits a field · space toggles"
	}
	if b.editing {
		hint = " · editing " + b.fields[b.focus].label + ": enter or esc when done"
	}
	lines = append(lines, stLabel.Render(title)+stDim.Render(hint))
	labelW := 13
	valW := max(w-labelW-3, 10)
	for i := range b.fields {
		if !b.visible(i) {
			continue
		}
		f := &b.fields[i]
		mark := "  "
		switch {
		case i == b.focus && b.editing:
			mark = "✎ "
		case i == b.focus:
			mark = "> "
		}
		var vals []string // one per line
		switch f.kind {
		case textField:
			f.input.Width = max(w-labelW-4, 10)
			vals = []string{f.input.View()}
		default:
			cur := ""
			for j, o := range f.optLabels {
				box := "( )"
				on := f.kind == choiceField && f.choice == j || f.kind == multiField && f.chosen[j]
				if f.kind == multiField {
					box = "[ ]"
					if on {
						box = "[x]"
					}
				} else if on {
					box = "(•)"
				}
				c := " "
				if i == b.focus && j == f.optCur {
					c = ">"
				}
				item := c + box + " " + o
				if i == b.focus && j == f.optCur {
					item = stCursor.Render(item)
				}
				// A long list (a spec's variants) wraps.
				if cur != "" && lipgloss.Width(cur)+1+lipgloss.Width(item) > valW {
					vals = append(vals, cur)
					cur = ""
				}
				if cur != "" {
					cur += " "
				}
				cur += item
			}
			vals = append(vals, cur)
		}
		label := mark + fit(f.label, labelW)
		if i == b.focus {
			label = stLabel.Render(label)
		}
		for j, v := range vals {
			if j > 0 {
				label = strings.Repeat(" ", labelW+2)
			}
			lines = append(lines, fit(label+"│"+v, w))
		}
	}
	lines = append(lines, strings.Repeat("─", w))
	p := b.plan
	if p.study != nil {
		lines = append(lines, fmt.Sprintf("%d variant(s) × %d seed(s) = %d runs · profile %s",
			len(p.study.Variants), len(p.study.Seeds), len(p.runs), b.field(fProfile).value()))
		lines = append(lines, "time: "+p.estimate)
		if p.basis != "" {
			lines = append(lines, stDim.Render("  from "+p.basis))
		}
		if !b.fromList() {
			lines = append(lines, stDim.Render("variants: "+strings.Join(p.study.Labels(), ", ")))
		}
		var notes []string
		if len(p.skipped) > 0 {
			notes = append(notes, fmt.Sprintf("skipped %d combination(s) the spec parser rejects (%s)", len(p.skipped), p.skipped[0]))
		}
		if p.merged > 0 {
			notes = append(notes, fmt.Sprintf("merged %d that train the same run", p.merged))
		}
		if src := b.source; src != nil && !b.fromList() && len(src.Paper)+len(src.Claims) > 0 {
			notes = append(notes, fmt.Sprintf("crossing the axes drops %s's %d paper figure(s) and %d claim(s) (they name its variants)", src.Name, len(src.Paper), len(src.Claims)))
		}
		if len(notes) > 0 {
			lines = append(lines, stWarn.Render(strings.Join(notes, "; ")))
		}
		where := "saves to " + b.savePath(p.study.Name)
		if b.saved != "" {
			where += " (last saved: " + b.saved + ")"
		}
		valid := "✓ valid"
		if b.fromList() {
			valid += fmt.Sprintf(" · %d paper figure(s), %d claim(s)", len(p.study.Paper), len(p.study.Claims))
		}
		lines = append(lines, stOK.Render(valid)+" · "+where)
	} else {
		for _, e := range p.errs {
			lines = append(lines, stErr.Render("✗ "+e))
		}
	}
	return clip(strings.Join(lines, "\n"), w, h)
}

// extraAxis is one axis of the "more axes" row: a runspec.Config setting (the
// issue-12 ablations and any other) and its values.
type extraAxis struct {
	key   string
	vals  []any
	texts []string
}

// parseExtraAxes reads "KEY=V1|V2; KEY=..." (values may also be separated
// by commas when none contains one; three_step_pairs values do). Values are
// read as booleans, integers, numbers or strings; the spec parser checks
// them per variant.
func parseExtraAxes(s string) ([]extraAxis, error) {
	var out []extraAxis
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, vals, ok := strings.Cut(part, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || strings.TrimSpace(vals) == "" {
			return nil, fmt.Errorf("%q: want KEY=V1|V2", part)
		}
		sep := ","
		if strings.Contains(vals, "|") {
			sep = "|"
		}
		ax := extraAxis{key: key}
		for _, v := range strings.Split(vals, sep) {
			v = strings.TrimSpace(v)
			if v == "" || slices.Contains(ax.texts, v) {
				continue
			}
			ax.texts = append(ax.texts, v)
			ax.vals = append(ax.vals, specValue(v))
		}
		if slices.ContainsFunc(out, func(o extraAxis) bool { return o.key == key }) {
			return nil, fmt.Errorf("%s given twice", key)
		}
		out = append(out, ax)
	}
	return out, nil
}

// specValue reads a typed value the way a spec file would hold it.
func specValue(v string) any {
	switch v {
	case "true":
		return true
	case "false":
		return false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	if x, err := strconv.ParseFloat(v, 64); err == nil {
		return x
	}
	return v
}

// extraPoint is one point of the crossed extra axes: its overrides and the
// variant label suffix that names them.
type extraPoint struct {
	over   map[string]any
	suffix string
}

func extraPoints(axes []extraAxis) []extraPoint {
	pts := []extraPoint{{over: map[string]any{}}}
	name := strings.NewReplacer(">", "to", ",", "_", ".", "p", "-", "", "+", "")
	for _, ax := range axes {
		var next []extraPoint
		for _, p := range pts {
			for i, v := range ax.vals {
				over := maps.Clone(p.over)
				over[ax.key] = v
				next = append(next, extraPoint{over: over, suffix: p.suffix + "-" + ax.key + "_" + name.Replace(ax.texts[i])})
			}
		}
		pts = next
	}
	return pts
}
