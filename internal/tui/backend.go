package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mksmt/workbench/internal/experiment"
	"github.com/mksmt/workbench/internal/store"
)

// Store is the part of internal/store's query API the TUI reads through
// (*store.Store implements it). Screens never see SQL.
type Store interface {
	Path() string
	Studies(ctx context.Context) ([]store.StudyInfo, error)
	Study(ctx context.Context, name string) (store.Study, error)
	Runs(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	Run(ctx context.Context, id int64) (store.Run, error)
	Live(ctx context.Context, f store.RunFilter) ([]store.Run, error)
	Params(ctx context.Context, ids ...int64) (map[int64]map[string]string, error)
	Summaries(ctx context.Context, ids ...int64) (map[int64]map[string]float64, error)
	Artifacts(ctx context.Context, runID int64) ([]store.Artifact, error)
	Series(ctx context.Context, ids []int64, keys []string, maxPoints int) ([]store.Series, error)
	LatestPoints(ctx context.Context, ids []int64, keys []string, n int) (map[int64]map[string][]store.Point, error)
	// What the filter language (internal/filter) looks at.
	ParamKeys(ctx context.Context) ([]string, error)
	SummaryKeys(ctx context.Context) ([]string, error)
	Marks(ctx context.Context, ids ...int64) (map[int64]store.Marks, error)
	Memberships(ctx context.Context, ids ...int64) (map[int64][]store.Membership, error)
	// Run management: archive (hide, keep) or remove ended runs.
	Archive(ctx context.Context, ids []int64, archive bool) ([]int64, error)
	DeleteRuns(ctx context.Context, ids []int64) (store.Removed, error)
	SetNote(ctx context.Context, id int64, note string) error
	AddTags(ctx context.Context, id int64, tags ...string) ([]string, error)
	RemoveTags(ctx context.Context, id int64, tags ...string) ([]string, error)
}

// Runner is how the TUI starts and stops training (internal/runner's
// queue, adapted in the tui verb). Training runs beside the UI: every method
// returns at once and progress is read back from the store.
type Runner interface {
	// Enqueue adds the runs of the study spec at path, with a profile
	// ("" = the study's own), to the queue; identical finished runs are
	// reused.
	Enqueue(ctx context.Context, specPath, profile string) (store.Plan, error)
	// Cancel stops a queued or running run; a running one checkpoints and
	// ends interrupted.
	Cancel(id int64) error
	// Resume queues interrupted (or failed) runs again, continuing from
	// their checkpoints.
	Resume(ctx context.Context, ids ...int64) (store.Plan, error)
	// Active is the number of runs queued or running in this process.
	Active() int
}

// Options configure the TUI.
type Options struct {
	Store  Store  // required
	Runner Runner // nil: browse only (starting, cancelling and resuming are refused)
	// SpecDir holds the study specs (experiments/); PlotDir receives
	// exports (plots/).
	SpecDir, PlotDir string
	// Refresh is how often the active screen reloads (default 1 s; 5 s
	// when Changes announces changes).
	Refresh time.Duration
	// Changes, when not nil, tells the TUI that runs changed in any process
	// on any host (store.Watch on PostgreSQL): the active screen reloads at
	// once, and the periodic reload is only a fallback. When it closes (the
	// notice connection is lost) the TUI polls every second again.
	Changes <-chan struct{}
	// Start is the first screen (0 Studies … 4 Compare).
	Start int
	// Now is the clock used for the age of running runs (default time.Now);
	// tests fix it.
	Now func() time.Time
}

// backend holds the TUI's dependencies. It is shared by the screens.
type backend struct {
	store   Store
	runner  Runner
	specDir string
	plotDir string
	now     func() time.Time
}

func newBackend(o Options) (*backend, error) {
	if o.Store == nil {
		return nil, errors.New("tui: no store")
	}
	b := &backend{store: o.Store, runner: o.Runner, specDir: o.SpecDir, plotDir: o.PlotDir, now: o.Now}
	if b.specDir == "" {
		b.specDir = "experiments"
	}
	if b.plotDir == "" {
		b.plotDir = "plots"
	}
	if b.now == nil {
		b.now = time.Now
	}
	return b, nil
}

func (b *backend) dbName() string { return filepath.Base(b.store.Path()) }

// errNoRunner is returned by actions that need the runner in browse-only mode.
var errNoRunner = errors.New("no runner: this TUI was opened read-only, runs cannot be started or stopped here")

// specFile is one study spec found in the spec directory.
type specFile struct {
	Path  string
	Study *experiment.Study // nil when the file does not parse
	Err   error
}

// specs reads every *.toml in the spec directory, sorted by file name. A
// missing directory is no error (a fresh project has none yet).
func (b *backend) specs() ([]specFile, error) {
	entries, err := os.ReadDir(b.specDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("study specs: %w", err)
	}
	var out []specFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".toml") {
			continue
		}
		p := filepath.Join(b.specDir, e.Name())
		st, err := experiment.Load(p)
		out = append(out, specFile{Path: p, Study: st, Err: err})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// studyNames lists the studies that can be compared: the spec files and
// the studies recorded in runs.db, by name.
func (b *backend) studyNames(ctx context.Context) ([]string, error) {
	set := map[string]bool{}
	specs, err := b.specs()
	if err != nil {
		return nil, err
	}
	for _, s := range specs {
		if s.Study != nil {
			set[s.Study.Name] = true
		}
	}
	infos, err := b.store.Studies(ctx)
	if err != nil {
		return nil, err
	}
	for _, i := range infos {
		set[i.Name] = true
	}
	return sortedKeys(set), nil
}
