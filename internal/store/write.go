package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"time"
)

// PutStudy records a study spec, creating it or updating its title, text
// and hash (the creation time is kept).
func (s *Store) PutStudy(ctx context.Context, st Study) error {
	if st.Name == "" {
		return errors.New("store: study has no name")
	}
	now := ms(time.Now())
	_, err := s.db.ExecContext(ctx, `INSERT INTO studies (name, title, spec, spec_hash, created, updated)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET title = excluded.title, spec = excluded.spec,
			spec_hash = excluded.spec_hash, updated = excluded.updated`,
		st.Name, st.Title, st.Spec, st.SpecHash, now, now)
	if err != nil {
		return fmt.Errorf("store: record study %s: %w", st.Name, err)
	}
	return nil
}

// NewRun is what CreateRun records for a run before it starts.
type NewRun struct {
	Study      string
	Variant    string
	Seed       int64
	Config     string // canonical JSON
	ConfigHash string
	Params     map[string]string // for filtering: the variant's settings, profile, ...
	// Owner is the process that queues the run (Host, PID); Dataset and
	// DatasetFingerprint are recorded too. The rest is filled by StartRun.
	Owner Provenance
}

// ErrRunLive is returned (wrapped) by CreateRun when an identical run (the
// same config hash) is already queued or running.
var ErrRunLive = errors.New("an identical run is already queued or running")

// CreateRun records a queued run and its params in one transaction and
// returns its id. When a run with the same config hash is already queued or
// running (another planner was faster), it creates nothing and returns that
// run's id with an error wrapping ErrRunLive.
func (s *Store) CreateRun(ctx context.Context, r NewRun) (int64, error) {
	if r.Study == "" || r.ConfigHash == "" {
		return 0, fmt.Errorf("store: run of study %q variant %q: study and config hash are required", r.Study, r.Variant)
	}
	label := fmt.Sprintf("%s/%s seed %d", r.Study, r.Variant, r.Seed)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: create run of %s: %w", label, err)
	}
	defer tx.Rollback()
	now := ms(time.Now())
	var id int64
	// At most one run per config hash is queued or running (migration
	// 0008): a second planner that gets here first loses nothing, it is
	// told which run to use instead.
	err = tx.QueryRowContext(ctx, `INSERT INTO runs (study, variant, seed, config, config_hash, status, created,
			heartbeat, host, pid, owner, dataset, dataset_fingerprint, code_version)
		VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (config_hash) WHERE status IN ('queued', 'running') DO NOTHING RETURNING id`,
		r.Study, r.Variant, r.Seed, r.Config, r.ConfigHash, now, now,
		r.Owner.Host, r.Owner.PID, ownerToken(r.Owner), r.Owner.Dataset, r.Owner.DatasetFingerprint, r.Owner.CodeVersion).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var live int64
		if err := tx.QueryRowContext(ctx, "SELECT id FROM runs WHERE config_hash = ? AND status IN ('queued', 'running')",
			r.ConfigHash).Scan(&live); err != nil {
			return 0, fmt.Errorf("store: create run of %s: %w", label, err)
		}
		return live, fmt.Errorf("store: create run of %s: run %d: %w", label, live, ErrRunLive)
	}
	if err != nil {
		return 0, fmt.Errorf("store: create run of %s: %w", label, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO study_runs (study, variant, run_id, added) VALUES (?, ?, ?, ?)",
		r.Study, r.Variant, id, now); err != nil {
		return 0, fmt.Errorf("store: run %d of study %s: %w", id, r.Study, err)
	}
	keys := make([]string, 0, len(r.Params))
	for k := range r.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, "INSERT INTO params (run_id, key, value) VALUES (?, ?, ?)", id, k, r.Params[k]); err != nil {
			return 0, fmt.Errorf("store: run %d param %s: %w", id, k, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: create run of %s: %w", label, err)
	}
	return id, nil
}

// AddToStudy makes an existing run part of a study under a variant label,
// as when a study reuses an identical run (same config hash) that another
// study created. Adding it again is a no-op.
func (s *Store) AddToStudy(ctx context.Context, runID int64, study, variant string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO study_runs (study, variant, run_id, added) VALUES (?, ?, ?, ?)
		ON CONFLICT DO NOTHING`, study, variant, runID, ms(time.Now()))
	if err != nil {
		return fmt.Errorf("store: add run %d to study %s as %q: %w", runID, study, variant, err)
	}
	return nil
}

// StartRun claims a queued, interrupted or failed run for the calling
// process: it becomes running, with the given provenance, a fresh heartbeat
// and one more attempt. It fails with ErrConflict when the run is running
// (in this or another process), finished or diverged.
func (s *Store) StartRun(ctx context.Context, id int64, p Provenance) error {
	now := ms(time.Now())
	res, err := s.db.ExecContext(ctx, `UPDATE runs SET status = 'running', error = '', diverged_step = NULL,
			started = COALESCE(started, ?), ended = NULL, heartbeat = ?, attempts = attempts + 1,
			host = ?, pid = ?, owner = ?, go_version = ?, git_commit = ?, git_dirty = ?, code_version = ?, blas = ?,
			dataset = COALESCE(NULLIF(?, ''), dataset), dataset_fingerprint = COALESCE(NULLIF(?, ''), dataset_fingerprint)
		WHERE id = ? AND status IN ('queued', 'interrupted', 'failed')`,
		now, now, p.Host, p.PID, ownerToken(p), p.GoVersion, p.GitCommit, p.GitDirty, p.CodeVersion, p.BLAS,
		p.Dataset, p.DatasetFingerprint, id)
	if err != nil {
		return fmt.Errorf("store: start run %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		r, err := s.Run(ctx, id)
		if err != nil {
			return fmt.Errorf("store: start run %d: %w", id, err)
		}
		return fmt.Errorf("store: start run %d: it is %s (pid %d on %s): %w", id, r.Status, r.PID, r.Host, ErrConflict)
	}
	return nil
}

// Beat is one run's heartbeat with its progress.
type Beat struct {
	RunID    int64
	Progress Progress
}

// Heartbeat refreshes the heartbeat of runs owned by (host, pid): the given
// running runs get their progress written, and the owner's queued runs a
// fresh heartbeat, all in one transaction. It returns the ids among beats
// that are no longer running (another process marked them stale).
func (s *Store) Heartbeat(ctx context.Context, host string, pid int, beats []Beat) (lost []int64, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: heartbeat: %w", err)
	}
	defer tx.Rollback()
	now := ms(time.Now())
	for _, b := range beats {
		latest, err := encodeLatest(b.Progress.Latest)
		if err != nil {
			return nil, fmt.Errorf("store: heartbeat of run %d: %w", b.RunID, err)
		}
		p := b.Progress
		res, err := tx.ExecContext(ctx, `UPDATE runs SET heartbeat = ?, step = ?, batch = ?, total_batches = ?,
				epoch = ?, images_per_sec = ?, latest = ?
			WHERE id = ? AND status = 'running'`,
			now, p.Step, p.Batch, p.TotalBatches, p.Epoch, finiteOr0(p.ImagesPerSec), latest, b.RunID)
		if err != nil {
			return nil, fmt.Errorf("store: heartbeat of run %d: %w", b.RunID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			lost = append(lost, b.RunID)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE runs SET heartbeat = ? WHERE status = 'queued' AND host = ? AND pid = ?", now, host, pid); err != nil {
		return nil, fmt.Errorf("store: heartbeat of queued runs: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: heartbeat: %w", err)
	}
	return lost, nil
}

// End is how a run ended.
type End struct {
	Status       Status // Finished, Failed, Interrupted or Diverged
	Error        string
	DivergedStep int64
	// Summaries are the run's final numbers (replacing any earlier ones).
	Summaries map[string]float64
	// Progress, when not nil, is the last progress to record.
	Progress *Progress
}

// EndRun records the end of a run, with its summaries, in one transaction.
func (s *Store) EndRun(ctx context.Context, id int64, e End) error { return s.endRun(ctx, id, e, "") }

// endRun is EndRun; with an owner token, only while the run is running
// with that owner (ErrLeaseLost otherwise).
func (s *Store) endRun(ctx context.Context, id int64, e End, owner string) error {
	switch e.Status {
	case Finished, Failed, Interrupted, Diverged:
	default:
		return fmt.Errorf("store: end run %d: %q is not an end status", id, e.Status)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: end run %d: %w", id, err)
	}
	defer tx.Rollback()
	now := ms(time.Now())
	var div any
	if e.Status == Diverged {
		div = e.DivergedStep
	}
	guard, args := "", []any{string(e.Status), e.Error, div, now, now, id}
	if owner != "" {
		guard = " AND owner = ? AND status = 'running'"
		args = append(args, owner)
	}
	res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, error = ?, diverged_step = ?, ended = ?, heartbeat = ?
		WHERE id = ?`+guard, args...)
	if err != nil {
		return fmt.Errorf("store: end run %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if owner != "" {
			return fmt.Errorf("store: end run %d: %w", id, ErrLeaseLost)
		}
		return fmt.Errorf("store: end run %d: %w", id, ErrNotFound)
	}
	if p := e.Progress; p != nil {
		latest, err := encodeLatest(p.Latest)
		if err != nil {
			return fmt.Errorf("store: end run %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET step = ?, batch = ?, total_batches = ?, epoch = ?,
				images_per_sec = ?, latest = ? WHERE id = ?`,
			p.Step, p.Batch, p.TotalBatches, p.Epoch, finiteOr0(p.ImagesPerSec), latest, id); err != nil {
			return fmt.Errorf("store: end run %d: %w", id, err)
		}
	}
	if len(e.Summaries) > 0 {
		if _, err := tx.ExecContext(ctx, "DELETE FROM summaries WHERE run_id = ?", id); err != nil {
			return fmt.Errorf("store: end run %d: %w", id, err)
		}
		for k, v := range e.Summaries {
			if _, err := tx.ExecContext(ctx, "INSERT INTO summaries (run_id, key, value) VALUES (?, ?, ?)", id, k, nullFloat(v)); err != nil {
				return fmt.Errorf("store: run %d summary %s: %w", id, k, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: end run %d: %w", id, err)
	}
	return nil
}

// AddArtifact records an artifact of a run. A checkpoint is recorded once per
// run and path: adding the same kind and path again only refreshes it.
func (s *Store) AddArtifact(ctx context.Context, a Artifact) (int64, error) {
	if a.Path == "" && a.Blob == nil {
		return 0, fmt.Errorf("store: artifact %s of run %d has neither path nor blob", a.Kind, a.RunID)
	}
	if a.Kind == "" {
		return 0, fmt.Errorf("store: artifact of run %d has no kind", a.RunID)
	}
	a.Path = s.storedPath(a.Path)
	var path, blob any
	if a.Path != "" {
		path = a.Path
	}
	if a.Blob != nil {
		blob = a.Blob
	}
	now := ms(time.Now())
	if a.Path != "" && a.Blob == nil {
		var id int64
		err := s.db.QueryRowContext(ctx, "SELECT id FROM artifacts WHERE run_id = ? AND kind = ? AND path = ?",
			a.RunID, a.Kind, a.Path).Scan(&id)
		if err == nil {
			if _, err := s.db.ExecContext(ctx, "UPDATE artifacts SET name = ?, created = ? WHERE id = ?", a.Name, now, id); err != nil {
				return 0, fmt.Errorf("store: artifact %s of run %d: %w", a.Kind, a.RunID, err)
			}
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("store: artifact %s of run %d: %w", a.Kind, a.RunID, err)
		}
	}
	var id int64
	err := s.db.QueryRowContext(ctx, "INSERT INTO artifacts (run_id, kind, name, path, blob, created) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
		a.RunID, a.Kind, a.Name, path, blob, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: artifact %s of run %d: %w", a.Kind, a.RunID, err)
	}
	return id, nil
}

// ownerToken is the owner recorded for a run queued or started with p:
// this process's token when p names this process, else none (a test or a
// tool recording a run for another process).
func ownerToken(p Provenance) string { return p.OwnerToken() }

// OwnerToken is the owner a run started with p records (StartRun): this
// process's token when p names this process, else none.
func (p Provenance) OwnerToken() string {
	if p.PID == os.Getpid() {
		return ProcessToken
	}
	return ""
}

// encodeLatest writes the latest-metrics map as JSON; NaN and Inf become null.
func encodeLatest(m map[string]float64) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	out := make(map[string]*float64, len(m))
	for k, v := range m {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			out[k] = nil
			continue
		}
		v := v
		out[k] = &v
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func decodeLatest(s string) (map[string]float64, error) {
	var in map[string]*float64
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(in))
	for k, v := range in {
		if v == nil {
			out[k] = math.NaN()
		} else {
			out[k] = *v
		}
	}
	return out, nil
}

// nullFloat stores NaN as NULL (SQLite has no NaN); ±Inf are kept.
func nullFloat(v float64) any {
	if math.IsNaN(v) {
		return nil
	}
	return v
}

func finiteOr0(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// RemoveFileArtifacts deletes the records of run's file artifacts of kind
// whose path is path (the file itself is the caller's to remove, first).
func (s *Store) RemoveFileArtifacts(ctx context.Context, runID int64, kind, path string) error {
	if _, err := s.db.ExecContext(ctx, "DELETE FROM artifacts WHERE run_id = ? AND kind = ? AND path IN (?, ?)", runID, kind, path, s.storedPath(path)); err != nil {
		return fmt.Errorf("store: remove %s artifact of run %d: %w", kind, runID, err)
	}
	return nil
}
