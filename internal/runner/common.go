package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/train"
)

// What the in-process runner and the worker share: how a job becomes a
// stored run, where its checkpoint lives, and how the trainer is called.

// newRun is the record CreateRun makes for job j, owned by owner (this
// process for the local runner; nobody for runs queued for workers).
func newRun(j Job, owner store.Provenance) (store.NewRun, error) {
	params := make(map[string]string, len(j.Params)+1)
	for k, v := range j.Params {
		params[k] = v
	}
	if _, ok := params["profile"]; !ok && j.Profile != "" {
		params["profile"] = j.Profile
	}
	cfgJSON := j.ConfigJSON
	if cfgJSON == "" {
		b, err := json.Marshal(j.Config)
		if err != nil {
			return store.NewRun{}, fmt.Errorf("runner: config of %s/%s: %w", j.Study, j.Variant, err)
		}
		cfgJSON = string(b)
	}
	owner.Dataset, owner.DatasetFingerprint = j.Config.Dataset, j.DataFingerprint
	if j.CodeVersion != "" {
		owner.CodeVersion = j.CodeVersion
	}
	return store.NewRun{Study: j.Study, Variant: j.Variant, Seed: j.Seed,
		Config: cfgJSON, ConfigHash: j.Hash, Params: params, Owner: owner}, nil
}

// newest is the newest run among runs with one of the statuses.
func newest(runs []store.Run, statuses ...store.Status) (store.Run, bool) {
	for i := len(runs) - 1; i >= 0; i-- {
		for _, s := range statuses {
			if runs[i].Status == s {
				return runs[i], true
			}
		}
	}
	return store.Run{}, false
}

// checkpointFile is run id's checkpoint path, its directory created, and
// whether a checkpoint is there to resume from.
func checkpointFile(st *store.Store, id int64) (path string, exists bool, err error) {
	path = st.CheckpointPath(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return path, false, fmt.Errorf("checkpoint directory: %v", err)
	}
	_, statErr := os.Stat(path)
	return path, statErr == nil, nil
}

// recordCheckpoint records run id's checkpoint file as an artifact, when
// there is one.
func recordCheckpoint(ctx context.Context, st *store.Store, id int64, path string) error {
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	_, err := st.AddArtifact(ctx, store.Artifact{RunID: id, Kind: store.ArtifactCheckpoint, Name: filepath.Base(path), Path: path})
	return err
}

// callTrain calls fn, turning a panic into an error with the top of its
// stack.
func callTrain(ctx context.Context, fn TrainFunc, cfg train.Config, opts train.Options) (res train.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			stack := strings.SplitN(string(debug.Stack()), "\n", 12)
			err = fmt.Errorf("panic: %v\n%s", p, strings.Join(stack[:min(len(stack), 11)], "\n"))
		}
	}()
	return fn(ctx, cfg, opts)
}
