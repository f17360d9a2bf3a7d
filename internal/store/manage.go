package store

// Run management: what a researcher marks on a run (archived, a note,
// tags) and removing runs for good. Every change is one transaction; a
// run that is queued or running (a process or a worker's lease holds it)
// is never archived or removed.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Marks are what a researcher marked on a run.
type Marks struct {
	Archived time.Time // when it was archived; zero: not archived
	Note     string
	Tags     []string // sorted
}

// IsArchived reports whether the run is archived.
func (m Marks) IsArchived() bool { return !m.Archived.IsZero() }

// MaxNote is the longest note a run may carry, in bytes.
const MaxNote = 4096

// maxTag is the longest tag, in bytes.
const maxTag = 64

// CheckTag says what is wrong with a tag name ("": nothing). A tag is a
// word: no spaces, no quotes and none of , | = < > ! ~ (the filter
// language's separators and operators), at most 64 bytes.
func CheckTag(tag string) error {
	switch {
	case tag == "":
		return errors.New("empty tag")
	case len(tag) > maxTag:
		return fmt.Errorf("tag %.20q… is longer than %d bytes", tag, maxTag)
	case !utf8.ValidString(tag):
		return fmt.Errorf("tag %q is not UTF-8", tag)
	case strings.HasPrefix(tag, "-"):
		return fmt.Errorf("tag %q starts with -", tag)
	}
	for _, r := range tag {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) || strings.ContainsRune(`,|=<>!~"'`, r) {
			return fmt.Errorf("tag %q has %q: a tag is one word without spaces, quotes or , | = < > ! ~", tag, r)
		}
	}
	return nil
}

// CheckNote says what is wrong with a note ("": nothing).
func CheckNote(note string) error {
	if len(note) > MaxNote {
		return fmt.Errorf("note is %d bytes, longer than %d", len(note), MaxNote)
	}
	if !utf8.ValidString(note) {
		return errors.New("note is not UTF-8")
	}
	for _, r := range note {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return fmt.Errorf("note has the control character %q", r)
		}
	}
	return nil
}

// Marks returns the marks of the given runs: run id -> marks, for every
// id that is a run.
func (s *Store) Marks(ctx context.Context, ids ...int64) (map[int64]Marks, error) {
	out := make(map[int64]Marks, len(ids))
	err := s.eachChunk(ids, func(chunk []int64, args []any) error {
		rows, err := s.db.QueryContext(ctx, "SELECT id, archived, note FROM runs WHERE id IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var archived sql.NullInt64
			var note string
			if err := rows.Scan(&id, &archived, &note); err != nil {
				rows.Close()
				return err
			}
			out[id] = Marks{Archived: fromMS(archived), Note: note}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		rows, err = s.db.QueryContext(ctx, "SELECT run_id, tag FROM run_tags WHERE run_id IN ("+placeholders(len(chunk))+") ORDER BY run_id, tag", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var tag string
			if err := rows.Scan(&id, &tag); err != nil {
				return err
			}
			m := out[id]
			m.Tags = append(m.Tags, tag)
			out[id] = m
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: marks of runs: %w", err)
	}
	return out, nil
}

// manageRunState reads a run's status, pid and host inside tx; ErrNotFound
// (wrapped, naming the run) when there is none.
func manageRunState(ctx context.Context, tx *txx, what string, id int64) (Status, string, error) {
	var status, host string
	var pid int
	err := tx.QueryRowContext(ctx, "SELECT status, host, pid FROM runs WHERE id = ?", id).Scan(&status, &host, &pid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("store: %s run %d: no such run: %w", what, id, ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("store: %s run %d: %w", what, id, err)
	}
	where := ""
	if Status(status) == Running || pid != 0 {
		where = fmt.Sprintf("pid %d on %s", pid, manageHost(host))
	}
	return Status(status), where, nil
}

func manageHost(s string) string {
	if s == "" {
		return "an unknown host"
	}
	return s
}

// manageBusyErr is the refusal to archive or remove a queued or running run.
func manageBusyErr(what string, id int64, st Status, where string) error {
	how := "wait for it to end, or stop it first"
	if st == Queued {
		how = "it waits for a worker or runner; stop that first"
	}
	if st == Running && where != "" {
		return fmt.Errorf("store: %s run %d: it is running (%s): %s: %w", what, id, where, how, ErrConflict)
	}
	return fmt.Errorf("store: %s run %d: it is %s: %s: %w", what, id, st, how, ErrConflict)
}

// manageTx runs fn in one transaction, committed when fn returns nil.
func (s *Store) manageTx(ctx context.Context, what string, fn func(tx *txx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: commit: %w", what, err)
	}
	return nil
}

// SetNote replaces a run's note ("" clears it).
func (s *Store) SetNote(ctx context.Context, id int64, note string) error {
	if err := CheckNote(note); err != nil {
		return fmt.Errorf("store: note of run %d: %w", id, err)
	}
	return s.manageTx(ctx, fmt.Sprintf("note of run %d", id), func(tx *txx) error {
		res, err := tx.ExecContext(ctx, "UPDATE runs SET note = ? WHERE id = ?", note, id)
		if err != nil {
			return fmt.Errorf("store: note of run %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("store: note of run %d: no such run: %w", id, ErrNotFound)
		}
		return nil
	})
}

// AddTags tags a run; it returns the tags it did not have before.
func (s *Store) AddTags(ctx context.Context, id int64, tags ...string) ([]string, error) {
	for _, t := range tags {
		if err := CheckTag(t); err != nil {
			return nil, fmt.Errorf("store: tag run %d: %w", id, err)
		}
	}
	var added []string
	err := s.manageTx(ctx, fmt.Sprintf("tag run %d", id), func(tx *txx) error {
		if _, _, err := manageRunState(ctx, tx, "tag", id); err != nil {
			return err
		}
		now := ms(time.Now())
		for _, t := range manageUnique(tags) {
			res, err := tx.ExecContext(ctx, "INSERT INTO run_tags (run_id, tag, added) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", id, t, now)
			if err != nil {
				return fmt.Errorf("store: tag run %d %q: %w", id, t, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added = append(added, t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

// RemoveTags removes tags from a run; it returns the ones it had.
func (s *Store) RemoveTags(ctx context.Context, id int64, tags ...string) ([]string, error) {
	var removed []string
	err := s.manageTx(ctx, fmt.Sprintf("untag run %d", id), func(tx *txx) error {
		if _, _, err := manageRunState(ctx, tx, "untag", id); err != nil {
			return err
		}
		for _, t := range manageUnique(tags) {
			res, err := tx.ExecContext(ctx, "DELETE FROM run_tags WHERE run_id = ? AND tag = ?", id, t)
			if err != nil {
				return fmt.Errorf("store: untag run %d %q: %w", id, t, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				removed = append(removed, t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return removed, nil
}

// Archive archives the given runs (archive false: unarchives them), all or
// none, in one transaction; it returns the ones whose state changed. A
// queued or running run is not archived (ErrConflict, naming it), nor is
// an id that is no run (ErrNotFound).
func (s *Store) Archive(ctx context.Context, ids []int64, archive bool) ([]int64, error) {
	what := "archive"
	if !archive {
		what = "unarchive"
	}
	var changed []int64
	err := s.manageTx(ctx, what+" runs", func(tx *txx) error {
		now := ms(time.Now())
		for _, id := range manageUniqueIDs(ids) {
			st, where, err := manageRunState(ctx, tx, what, id)
			if err != nil {
				return err
			}
			var res sql.Result
			if archive {
				if st == Queued || st == Running {
					return manageBusyErr(what, id, st, where)
				}
				// The guard repeats the check: the run cannot have been
				// started between the read and the write.
				res, err = tx.ExecContext(ctx, `UPDATE runs SET archived = ?
					WHERE id = ? AND archived IS NULL AND status NOT IN ('queued', 'running')`, now, id)
			} else {
				res, err = tx.ExecContext(ctx, "UPDATE runs SET archived = NULL WHERE id = ? AND archived IS NOT NULL", id)
			}
			if err != nil {
				return fmt.Errorf("store: %s run %d: %w", what, id, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				changed = append(changed, id)
			} else if st, where, err := manageRunState(ctx, tx, what, id); err != nil {
				return err
			} else if archive && (st == Queued || st == Running) {
				return manageBusyErr(what, id, st, where) // started since the read above
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changed, nil
}

// Removed is what DeleteRuns removed.
type Removed struct {
	IDs   []int64
	Files []string // files removed: checkpoints and other file artifacts under the artifacts directory
	// Kept are file artifacts outside the artifacts directory, or shared
	// with a run that stays: their records are gone, the files are left.
	Kept []string
}

// DeleteRuns removes runs for good: their rows (the run, its params,
// metric points, summaries, artifacts, tags and study memberships) in one
// transaction, all or none, then their checkpoint files and the other file
// artifacts under the artifacts directory. A queued or running run (a
// process or a worker's lease holds it) is refused with ErrConflict and an
// unknown id with ErrNotFound, both naming the run, and nothing is
// removed. The files are moved aside before the commit (a file that
// cannot be moved cancels the removal) and put back if the commit fails;
// a moved file whose removal fails after the commit belongs to no run, is
// named in the error, and `workbench gc` removes it later.
func (s *Store) DeleteRuns(ctx context.Context, ids []int64) (Removed, error) {
	var rep Removed
	var files []string
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Removed{}, fmt.Errorf("store: remove runs: %w", err)
	}
	defer tx.Rollback()
	for _, id := range manageUniqueIDs(ids) {
		st, where, err := manageRunState(ctx, tx, "remove", id)
		if err != nil {
			return Removed{}, err
		}
		if st == Queued || st == Running {
			return Removed{}, manageBusyErr("remove", id, st, where)
		}
		paths, err := s.manageArtifactPaths(ctx, tx, id)
		if err != nil {
			return Removed{}, fmt.Errorf("store: remove run %d: %w", id, err)
		}
		for _, table := range []string{"metrics", "params", "summaries", "artifacts", "run_tags", "study_runs"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+table+" WHERE run_id = ?", id); err != nil {
				return Removed{}, fmt.Errorf("store: remove run %d: %s: %w", id, table, err)
			}
		}
		// Guarded: a run started since the read above stays (and the
		// whole removal is rolled back).
		res, err := tx.ExecContext(ctx, "DELETE FROM runs WHERE id = ? AND status NOT IN ('queued', 'running')", id)
		if err != nil {
			return Removed{}, fmt.Errorf("store: remove run %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Removed{}, fmt.Errorf("store: remove run %d: it was started meanwhile: %w", id, ErrConflict)
		}
		rep.IDs = append(rep.IDs, id)
		files = append(files, s.CheckpointPath(id))
		files = append(files, paths...)
	}
	// A file another run still records stays.
	var shared []string
	for _, p := range manageUnique(files) {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM artifacts WHERE path IN (?, ?)", p, s.storedPath(p)).Scan(&n); err != nil {
			return Removed{}, fmt.Errorf("store: remove runs: %w", err)
		}
		if n > 0 {
			shared = append(shared, p)
		}
	}
	files = slices.DeleteFunc(manageUnique(files), func(p string) bool {
		if slices.Contains(shared, p) || !s.underArtifacts(p) {
			rep.Kept = append(rep.Kept, p)
			return true
		}
		return false
	})

	// The files are moved aside before the commit and put back if it
	// fails: a checkpoint left behind would be taken, as its own to resume
	// from, by a new run that gets the same id (SQLite reuses the highest
	// id). A moved file's name ("12.ckpt.tmprm-…") is one gc removes.
	what := "runs " + manageIDList(rep.IDs)
	suffix := ".tmprm-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	type move struct{ from, to string }
	var moved []move
	undo := func() {
		for i := len(moved) - 1; i >= 0; i-- {
			renameFile(moved[i].to, moved[i].from)
		}
	}
	for _, p := range files {
		err := renameFile(p, p+suffix)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			undo()
			return Removed{}, fmt.Errorf("store: remove %s: cannot move %s aside (%w); nothing removed", what, p, err)
		}
		moved = append(moved, move{p, p + suffix})
	}
	if err := tx.Commit(); err != nil {
		undo()
		return Removed{}, fmt.Errorf("store: remove %s: commit: %w", what, err)
	}
	var errs []error
	for _, m := range moved {
		if err := os.Remove(m.to); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("store: %s removed, but not the file %s: %w (workbench gc removes it later)", what, m.to, err))
			continue
		}
		rep.Files = append(rep.Files, m.from)
	}
	for _, id := range rep.IDs {
		// Half-written checkpoints of a killed process: "12.ckpt.tmp123".
		tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(s.CheckpointPath(id)), strconv.FormatInt(id, 10)+".ckpt.tmp*"))
		for _, p := range tmps {
			if strings.HasSuffix(p, suffix) {
				continue
			}
			if err := os.Remove(p); err == nil {
				rep.Files = append(rep.Files, p)
			} else if !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("store: %s removed, but not the file %s: %w (workbench gc removes it later)", what, p, err))
			}
		}
	}
	return rep, errors.Join(errs...)
}

// renameFile is os.Rename; tests make it fail.
var renameFile = os.Rename

// manageArtifactPaths lists the files of a run's file artifacts.
func (s *Store) manageArtifactPaths(ctx context.Context, tx *txx, id int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT path FROM artifacts WHERE run_id = ? AND path IS NOT NULL AND path <> '' ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, s.resolvedPath(p))
	}
	return out, rows.Err()
}

// underArtifacts reports whether path lies inside the artifacts directory
// (a file anywhere else is the user's, even if a run records it).
func (s *Store) underArtifacts(path string) bool {
	if s.artifactDir == "" {
		return false
	}
	dir, err1 := filepath.Abs(s.artifactDir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != "." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != ".."
}

// Memberships lists the studies that use each of the given runs, with
// their labels for it: run id -> memberships by study name.
func (s *Store) Memberships(ctx context.Context, ids ...int64) (map[int64][]Membership, error) {
	out := make(map[int64][]Membership, len(ids))
	err := s.eachChunk(ids, func(chunk []int64, args []any) error {
		rows, err := s.db.QueryContext(ctx, "SELECT run_id, study, variant FROM study_runs WHERE run_id IN ("+placeholders(len(chunk))+") ORDER BY run_id, study, variant", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var m Membership
			if err := rows.Scan(&id, &m.Study, &m.Variant); err != nil {
				return err
			}
			out[id] = append(out[id], m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: studies of runs: %w", err)
	}
	return out, nil
}

// ParamKeys lists the param names any run has, sorted.
func (s *Store) ParamKeys(ctx context.Context) ([]string, error) {
	return s.distinct(ctx, "param names", "SELECT DISTINCT key FROM params ORDER BY key")
}

// SummaryKeys lists the summary keys any run has, sorted.
func (s *Store) SummaryKeys(ctx context.Context) ([]string, error) {
	return s.distinct(ctx, "summary keys", "SELECT DISTINCT key FROM summaries ORDER BY key")
}

// TagNames lists the tags any run has, sorted.
func (s *Store) TagNames(ctx context.Context) ([]string, error) {
	return s.distinct(ctx, "tags", "SELECT DISTINCT tag FROM run_tags ORDER BY tag")
}

func (s *Store) distinct(ctx context.Context, what, q string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// manageUnique keeps the first of each string, in order.
func manageUnique(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func manageUniqueIDs(ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

func manageIDList(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// FinalPoints returns the last point (highest step) of each metric series
// of the given runs: run id -> key -> point.
func (s *Store) FinalPoints(ctx context.Context, ids ...int64) (map[int64]map[string]Point, error) {
	out := make(map[int64]map[string]Point, len(ids))
	err := s.eachChunk(ids, func(chunk []int64, args []any) error {
		rows, err := s.db.QueryContext(ctx, `SELECT m.run_id, m.key, m.step, m.epoch, m.value, m.time FROM metrics m
			JOIN (SELECT run_id, key, MAX(step) AS step FROM metrics WHERE run_id IN (`+placeholders(len(chunk))+`) GROUP BY run_id, key) l
			ON l.run_id = m.run_id AND l.key = m.key AND l.step = m.step`, args...)
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
			if err := rows.Scan(&id, &key, &p.Step, &p.Epoch, &v, &t); err != nil {
				return err
			}
			p.Value, p.Time, p.N = floatOrNaN(v), fromMS(t), 1
			if out[id] == nil {
				out[id] = map[string]Point{}
			}
			out[id][key] = p
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: final metric points: %w", err)
	}
	return out, nil
}
