package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// RunFilter selects runs. Empty fields select everything; set fields must
// all match.
type RunFilter struct {
	IDs []int64
	// Study selects the runs the study uses: those created for it and those
	// it reuses from other studies (AddToStudy). The runs returned then carry
	// the study's name and its own variant label for them.
	Study string
	// Variants selects by variant label: the study's labels when Study is
	// set, else the label each run was created under.
	Variants   []string
	Statuses   []Status
	ConfigHash string
	// Params selects runs having every key with exactly that value.
	Params map[string]string
	// Limit caps the number of runs (0: no cap); the newest are kept when
	// Newest is set, otherwise the oldest.
	Limit  int
	Newest bool
}

const runColumns = `runs.id, runs.study, runs.variant, runs.seed, runs.config, runs.config_hash,
	runs.status, runs.error, runs.diverged_step,
	runs.created, runs.started, runs.ended, runs.heartbeat, runs.attempts,
	runs.host, runs.pid, runs.go_version, runs.git_commit, runs.git_dirty, runs.code_version, runs.blas,
	runs.dataset, runs.dataset_fingerprint,
	runs.step, runs.batch, runs.total_batches, runs.epoch, runs.images_per_sec, runs.latest, runs.checkpoint_step`

// scanRun reads runColumns, then extra destinations.
func scanRun(sc interface{ Scan(...any) error }, extra ...any) (Run, error) {
	var r Run
	var div, created, started, ended, beat, ckpt sql.NullInt64
	var status, latest string
	dest := []any{&r.ID, &r.Study, &r.Variant, &r.Seed, &r.Config, &r.ConfigHash, &status, &r.Error, &div,
		&created, &started, &ended, &beat, &r.Attempts,
		&r.Host, &r.PID, &r.GoVersion, &r.GitCommit, &r.GitDirty, &r.CodeVersion, &r.BLAS, &r.Dataset, &r.DatasetFingerprint,
		&r.Progress.Step, &r.Progress.Batch, &r.Progress.TotalBatches, &r.Progress.Epoch, &r.Progress.ImagesPerSec, &latest, &ckpt}
	if err := sc.Scan(append(dest, extra...)...); err != nil {
		return r, err
	}
	r.Status = Status(status)
	r.DivergedStep = div.Int64
	r.CheckpointStep = -1
	if ckpt.Valid {
		r.CheckpointStep = ckpt.Int64
	}
	r.Created, r.Started, r.Ended, r.Heartbeat = fromMS(created), fromMS(started), fromMS(ended), fromMS(beat)
	var err error
	if r.Progress.Latest, err = decodeLatest(latest); err != nil {
		return r, fmt.Errorf("run %d: latest metrics: %w", r.ID, err)
	}
	return r, nil
}

// Run returns one run; the error wraps ErrNotFound when there is none.
func (s *Store) Run(ctx context.Context, id int64) (Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, "SELECT "+runColumns+" FROM runs WHERE runs.id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("store: run %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("store: run %d: %w", id, err)
	}
	return r, nil
}

// Runs returns the runs that match f, in id (creation) order.
func (s *Store) Runs(ctx context.Context, f RunFilter) ([]Run, error) {
	var where []string
	var args []any
	from := "SELECT " + runColumns + " FROM runs"
	if f.Study != "" {
		from = "SELECT " + runColumns + ", sr.study, sr.variant FROM runs JOIN study_runs sr ON sr.run_id = runs.id"
		where = append(where, "sr.study = ?")
		args = append(args, f.Study)
	}
	if len(f.IDs) > 0 {
		where = append(where, "runs.id IN ("+placeholders(len(f.IDs))+")")
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if len(f.Variants) > 0 {
		col := "runs.variant"
		if f.Study != "" {
			col = "sr.variant"
		}
		where = append(where, col+" IN ("+placeholders(len(f.Variants))+")")
		for _, v := range f.Variants {
			args = append(args, v)
		}
	}
	if len(f.Statuses) > 0 {
		where = append(where, "runs.status IN ("+placeholders(len(f.Statuses))+")")
		for _, st := range f.Statuses {
			args = append(args, string(st))
		}
	}
	if f.ConfigHash != "" {
		where = append(where, "runs.config_hash = ?")
		args = append(args, f.ConfigHash)
	}
	keys := make([]string, 0, len(f.Params))
	for k := range f.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		where = append(where, "EXISTS (SELECT 1 FROM params p WHERE p.run_id = runs.id AND p.key = ? AND p.value = ?)")
		args = append(args, k, f.Params[k])
	}
	q := from
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	order := "runs.id"
	if f.Study != "" {
		order += ", sr.variant"
	}
	if f.Newest {
		order = strings.ReplaceAll(order, ",", " DESC,") + " DESC"
	}
	q += " ORDER BY " + order
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var extra []any
		var study, variant string
		if f.Study != "" {
			extra = []any{&study, &variant}
		}
		r, err := scanRun(rows, extra...)
		if err != nil {
			return nil, fmt.Errorf("store: list runs: %w", err)
		}
		if f.Study != "" {
			r.Study, r.Variant = study, variant
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list runs: %w", err)
	}
	if f.Newest {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, nil
}

// Studies lists the recorded studies by name, with their run counts.
func (s *Store) Studies(ctx context.Context) ([]StudyInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, title, spec, spec_hash, created, updated FROM studies ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list studies: %w", err)
	}
	var out []StudyInfo
	idx := map[string]int{}
	for rows.Next() {
		var si StudyInfo
		var created, updated sql.NullInt64
		if err := rows.Scan(&si.Name, &si.Title, &si.Spec, &si.SpecHash, &created, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list studies: %w", err)
		}
		si.Created, si.Updated = fromMS(created), fromMS(updated)
		si.Counts = map[Status]int{}
		idx[si.Name] = len(out)
		out = append(out, si)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("store: list studies: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT sr.study, r.status, COUNT(*) FROM study_runs sr
		JOIN runs r ON r.id = sr.run_id GROUP BY sr.study, r.status`)
	if err != nil {
		return nil, fmt.Errorf("store: count runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var study, status string
		var n int
		if err := rows.Scan(&study, &status, &n); err != nil {
			return nil, fmt.Errorf("store: count runs: %w", err)
		}
		i, ok := idx[study]
		if !ok {
			continue
		}
		out[i].Counts[Status(status)] = n
		out[i].Total += n
		if Status(status) == Finished {
			out[i].Finished = n
		}
	}
	return out, rows.Err()
}

// Membership is a study's use of a run under a variant label.
type Membership struct {
	Study, Variant string
}

// RunStudies lists the studies that use a run, with their labels for it,
// by study name.
func (s *Store) RunStudies(ctx context.Context, runID int64) ([]Membership, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT study, variant FROM study_runs WHERE run_id = ? ORDER BY study, variant", runID)
	if err != nil {
		return nil, fmt.Errorf("store: studies of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		if err := rows.Scan(&m.Study, &m.Variant); err != nil {
			return nil, fmt.Errorf("store: studies of run %d: %w", runID, err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Study returns one study; the error wraps ErrNotFound when there is none.
func (s *Store) Study(ctx context.Context, name string) (Study, error) {
	var st Study
	var created, updated sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT name, title, spec, spec_hash, created, updated FROM studies WHERE name = ?", name).
		Scan(&st.Name, &st.Title, &st.Spec, &st.SpecHash, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("store: study %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return st, fmt.Errorf("store: study %q: %w", name, err)
	}
	st.Created, st.Updated = fromMS(created), fromMS(updated)
	return st, nil
}

// Params returns the params of the given runs: run id -> key -> value.
func (s *Store) Params(ctx context.Context, ids ...int64) (map[int64]map[string]string, error) {
	out := make(map[int64]map[string]string, len(ids))
	err := s.eachChunk(ids, func(chunk []int64, args []any) error {
		rows, err := s.db.QueryContext(ctx, "SELECT run_id, key, value FROM params WHERE run_id IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var k, v string
			if err := rows.Scan(&id, &k, &v); err != nil {
				return err
			}
			if out[id] == nil {
				out[id] = map[string]string{}
			}
			out[id][k] = v
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: params: %w", err)
	}
	return out, nil
}

// Summaries returns the final numbers of the given runs: run id -> key ->
// value (NaN where the stored value is NULL).
func (s *Store) Summaries(ctx context.Context, ids ...int64) (map[int64]map[string]float64, error) {
	out := make(map[int64]map[string]float64, len(ids))
	err := s.eachChunk(ids, func(chunk []int64, args []any) error {
		rows, err := s.db.QueryContext(ctx, "SELECT run_id, key, value FROM summaries WHERE run_id IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var k string
			var v sql.NullFloat64
			if err := rows.Scan(&id, &k, &v); err != nil {
				return err
			}
			if out[id] == nil {
				out[id] = map[string]float64{}
			}
			out[id][k] = floatOrNaN(v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: summaries: %w", err)
	}
	return out, nil
}

// Artifacts lists the artifacts of a run (without blob bytes; see
// ArtifactBlob), oldest first.
func (s *Store) Artifacts(ctx context.Context, runID int64) ([]Artifact, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, run_id, kind, name, COALESCE(path, ''), COALESCE(length(blob), 0), created
		FROM artifacts WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("store: artifacts of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []Artifact
	for rows.Next() {
		var a Artifact
		var created sql.NullInt64
		if err := rows.Scan(&a.ID, &a.RunID, &a.Kind, &a.Name, &a.Path, &a.Size, &created); err != nil {
			return nil, fmt.Errorf("store: artifacts of run %d: %w", runID, err)
		}
		a.Created = fromMS(created)
		a.Path = s.resolvedPath(a.Path)
		out = append(out, a)
	}
	return out, rows.Err()
}

// ArtifactBlob returns the inline bytes of an artifact (nil for a file artifact).
func (s *Store) ArtifactBlob(ctx context.Context, artifactID int64) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, "SELECT blob FROM artifacts WHERE id = ?", artifactID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: artifact %d: %w", artifactID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: artifact %d: %w", artifactID, err)
	}
	return b, nil
}

// Pivot is the final numbers of a study's finished runs arranged by variant
// and seed, for tables.
type Pivot struct {
	Variants []string // in the order their first run was created (the spec's order)
	Seeds    []int64  // ascending
	Keys     []string // summary keys present, sorted
	// Cells[variant][seed] is the newest finished run of that variant and seed.
	Cells map[string]map[int64]Cell
}

// Cell is one run's numbers in a Pivot.
type Cell struct {
	RunID  int64
	Values map[string]float64
}

// Values returns the values of key for variant over the seeds that have it,
// in seed order, with those seeds.
func (p *Pivot) Values(variant, key string) (vals []float64, seeds []int64) {
	for _, seed := range p.Seeds {
		c, ok := p.Cells[variant][seed]
		if !ok {
			continue
		}
		if v, ok := c.Values[key]; ok {
			vals = append(vals, v)
			seeds = append(seeds, seed)
		}
	}
	return vals, seeds
}

// Pivot arranges the summaries of the finished runs selected by f (usually a
// study and a params filter such as profile) by variant × seed. keys limits
// the summary keys (none: all). Statuses in f are ignored: only finished runs
// count. When a variant and seed were run more than once (--force), the
// newest finished run is used.
func (s *Store) Pivot(ctx context.Context, f RunFilter, keys ...string) (*Pivot, error) {
	f.Statuses = []Status{Finished}
	f.Limit, f.Newest = 0, false
	runs, err := s.Runs(ctx, f)
	if err != nil {
		return nil, err
	}
	p := &Pivot{Cells: map[string]map[int64]Cell{}}
	ids := make([]int64, 0, len(runs))
	for _, r := range runs {
		ids = append(ids, r.ID)
	}
	sums, err := s.Summaries(ctx, ids...)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	seeds := map[int64]bool{}
	present := map[string]bool{}
	for _, r := range runs { // ascending id: later runs replace earlier ones
		if p.Cells[r.Variant] == nil {
			p.Cells[r.Variant] = map[int64]Cell{}
			p.Variants = append(p.Variants, r.Variant)
		}
		vals := map[string]float64{}
		for k, v := range sums[r.ID] {
			if len(want) == 0 || want[k] {
				vals[k] = v
				present[k] = true
			}
		}
		p.Cells[r.Variant][r.Seed] = Cell{RunID: r.ID, Values: vals}
		seeds[r.Seed] = true
	}
	for seed := range seeds {
		p.Seeds = append(p.Seeds, seed)
	}
	sort.Slice(p.Seeds, func(i, j int) bool { return p.Seeds[i] < p.Seeds[j] })
	for k := range present {
		p.Keys = append(p.Keys, k)
	}
	sort.Strings(p.Keys)
	return p, nil
}

// CountMetrics counts the metric points logged by each of the given runs
// (every point written, resumed steps included).
func (s *Store) CountMetrics(ctx context.Context, ids ...int64) (map[int64]int, error) {
	out := make(map[int64]int, len(ids))
	err := s.eachChunk(ids, func(chunk []int64, args []any) error {
		rows, err := s.db.QueryContext(ctx, "SELECT run_id, COUNT(*) FROM metrics WHERE run_id IN ("+placeholders(len(chunk))+") GROUP BY run_id", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			out[id] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: count metric points: %w", err)
	}
	return out, nil
}

// IntegrityCheck runs SQLite's integrity check on the file: "ok", or the
// problems it found.
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	problems, err := s.db.d.check(ctx, s.db, false)
	if err != nil {
		return "", fmt.Errorf("store: integrity check of %s: %w", s.path, err)
	}
	if problems == "" {
		return "ok", nil
	}
	return problems, nil
}

// MetricKeys lists the metric keys logged by the given runs, sorted.
func (s *Store) MetricKeys(ctx context.Context, ids ...int64) ([]string, error) {
	set := map[string]bool{}
	err := s.eachChunk(ids, func(chunk []int64, args []any) error {
		// One index seek per (run, key) instead of a scan of every point.
		rows, err := s.db.QueryContext(ctx, `WITH RECURSIVE k(run_id, key) AS (
				SELECT run_id, MIN(key) FROM metrics WHERE run_id IN (`+placeholders(len(chunk))+`) GROUP BY run_id
				UNION ALL
				SELECT k.run_id, (SELECT MIN(m.key) FROM metrics m WHERE m.run_id = k.run_id AND m.key > k.key)
				FROM k WHERE k.key IS NOT NULL)
			SELECT DISTINCT key FROM k WHERE key IS NOT NULL`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			set[k] = true
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: metric keys: %w", err)
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// Series returns the metric series of the given runs and keys (no keys: all
// keys), each downsampled to at most maxPoints points (0: all points). A
// downsampled point averages consecutive logged points (NaNs left out; NaN if
// all were NaN) and carries the step, epoch and time of the last of them.
// (run, key, step) is unique in the store. Series come
// ordered by run id, then key; runs or keys without points are left out.
func (s *Store) Series(ctx context.Context, ids []int64, keys []string, maxPoints int) ([]Series, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if maxPoints <= 0 {
		maxPoints = math.MaxInt32
	}
	var out []Series
	err := s.eachChunk(ids, func(chunk []int64, args []any) error {
		where := "run_id IN (" + placeholders(len(chunk)) + ")"
		args = append([]any{maxPoints}, args...)
		if len(keys) > 0 {
			where += " AND key IN (" + placeholders(len(keys)) + ")"
			for _, k := range keys {
				args = append(args, k)
			}
		}
		rows, err := s.db.QueryContext(ctx, `
			WITH bucketed AS (
				SELECT run_id, key, step, epoch, value, time,
					ntile(?) OVER (PARTITION BY run_id, key ORDER BY step) AS b
				FROM metrics WHERE `+where+`)
			SELECT run_id, key, MAX(step), MAX(epoch), AVG(value), MAX(time), COUNT(*)
			FROM bucketed GROUP BY run_id, key, b ORDER BY run_id, key, b`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var key string
			var p Point
			var v sql.NullFloat64
			var t sql.NullInt64
			if err := rows.Scan(&id, &key, &p.Step, &p.Epoch, &v, &t, &p.N); err != nil {
				return err
			}
			p.Value, p.Time = floatOrNaN(v), fromMS(t)
			if n := len(out); n == 0 || out[n-1].RunID != id || out[n-1].Key != key {
				out = append(out, Series{RunID: id, Key: key})
			}
			out[len(out)-1].Points = append(out[len(out)-1].Points, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: metric series: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].RunID != out[j].RunID {
			return out[i].RunID < out[j].RunID
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// Live returns the queued and running runs selected by f (Statuses in f are
// ignored), with their progress and heartbeat, for progress displays.
func (s *Store) Live(ctx context.Context, f RunFilter) ([]Run, error) {
	f.Statuses = []Status{Queued, Running}
	return s.Runs(ctx, f)
}

// maxVars keeps IN lists well below SQLite's limit on bound parameters.
const maxVars = 500

func (s *Store) eachChunk(ids []int64, fn func(chunk []int64, args []any) error) error {
	for len(ids) > 0 {
		n := min(len(ids), maxVars)
		chunk := ids[:n]
		ids = ids[n:]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		if err := fn(chunk, args); err != nil {
			return err
		}
	}
	return nil
}

func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

func floatOrNaN(v sql.NullFloat64) float64 {
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}
