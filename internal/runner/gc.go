package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/mksmt/workbench/internal/store"
)

// GCOptions say what CollectCheckpoints removes.
type GCOptions struct {
	// KeepFinished keeps the final checkpoints of finished and diverged
	// runs (Figure 4's Grad-CAM maps are drawn from them).
	KeepFinished bool
	// DryRun only reports what would be removed.
	DryRun bool
}

// GCReport is what CollectCheckpoints removed (or would remove).
type GCReport struct {
	Removed []GCFile
	Kept    int // checkpoints kept: runs that can still resume, or KeepFinished
	Freed   int64
}

// GCFile is one removed file and why.
type GCFile struct {
	Path  string
	RunID int64 // 0: no run
	Why   string
	Bytes int64
}

// CollectCheckpoints removes checkpoint files nothing needs: those of
// finished and diverged runs (unless KeepFinished), files of runs that are
// not in the store, and temporary files left by a process killed while
// writing one. Checkpoints of queued, running, interrupted and failed runs
// are kept: resume continues them. A removed checkpoint's artifact record
// is deleted with it.
func CollectCheckpoints(ctx context.Context, st *store.Store, opt GCOptions) (GCReport, error) {
	var rep GCReport
	dir := filepath.Dir(st.CheckpointPath(0))
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return rep, nil
	}
	if err != nil {
		return rep, fmt.Errorf("gc: %w", err)
	}
	byID := map[int64][]os.DirEntry{}
	for _, e := range entries {
		if id, ok := checkpointRun(e.Name()); ok && !e.IsDir() {
			byID[id] = append(byID[id], e)
		}
	}
	ids := make([]int64, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	runs, err := st.Runs(ctx, store.RunFilter{IDs: ids})
	if err != nil {
		return rep, fmt.Errorf("gc: %w", err)
	}
	status := map[int64]store.Status{}
	for _, r := range runs {
		status[r.ID] = r.Status
	}
	for _, id := range ids {
		s, known := status[id]
		for _, e := range byID[id] {
			path := filepath.Join(dir, e.Name())
			final := path == st.CheckpointPath(id)
			var why string
			switch {
			case !known:
				why = "no such run in " + st.Path()
			case s == store.Running || s == store.Queued:
				// A temporary file may be being written right now.
			case !final:
				why = "left by a process killed while writing a checkpoint"
			case (s == store.Finished || s == store.Diverged) && !opt.KeepFinished:
				why = "run " + string(s)
			}
			if why == "" {
				if final {
					rep.Kept++
				}
				continue
			}
			fi, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			if !opt.DryRun {
				if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
					return rep, fmt.Errorf("gc: %w", err)
				}
				if known && final {
					if err := st.RemoveFileArtifacts(ctx, id, store.ArtifactCheckpoint, path); err != nil {
						return rep, err
					}
				}
			}
			runID := id
			if !known {
				runID = 0
			}
			rep.Removed = append(rep.Removed, GCFile{Path: path, RunID: runID, Why: why, Bytes: fi.Size()})
			rep.Freed += fi.Size()
		}
	}
	return rep, nil
}

// checkpointRun reads the run id of a checkpoint file name: "12.ckpt" or a
// temporary "12.ckpt.tmp123".
func checkpointRun(name string) (int64, bool) {
	num, rest, ok := strings.Cut(name, ".ckpt")
	if !ok || (rest != "" && !strings.HasPrefix(rest, ".tmp")) {
		return 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return id, err == nil && id > 0
}
