package train

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/mksmt/workbench/internal/fault"
	"github.com/mksmt/workbench/internal/nets"
)

// checkpointFormat names the layout of checkpointFile; a reader refuses
// any other.
const checkpointFormat = "mksmt-train-checkpoint/1"

// checkpointFile is everything a run needs to continue exactly: the config
// and data set it belongs to, the weights, AdamW's moments and counts, the
// batch norms' running statistics, and the position (which, with the seed,
// is also the random state: see state).
type checkpointFile struct {
	Format      string
	Config      Config
	Fingerprint string
	Classes     int

	Names  []string
	Shapes [][]int
	Params [][]float32

	AdamM, AdamV []float32
	AdamT        []int64

	BNMean, BNVar [][]float64

	State state
}

// checkpoint writes the run's checkpoint, atomically (a temporary file in
// the same directory, then a rename), when the run has a checkpoint path.
// Between the two it calls opt.Commit, so that the metric points of every
// step the checkpoint covers are committed before the checkpoint exists: a
// process killed at any moment can resume from its newest checkpoint
// without a gap in its series.
func (t *trainer) checkpoint() error {
	path := t.opt.CheckpointPath
	if path == "" {
		return nil
	}
	f := checkpointFile{
		Format: checkpointFormat, Config: t.cfg, Fingerprint: t.ds.Fingerprint(), Classes: t.ds.NumClasses(),
		AdamM: t.adam.m, AdamV: t.adam.v, AdamT: t.adam.t, State: t.st,
	}
	if t.session != (time.Time{}) {
		f.State.WallSeconds = t.wallSeconds()
	}
	for _, p := range t.model.Params {
		f.Names = append(f.Names, p.Name)
		f.Shapes = append(f.Shapes, p.Shape)
		f.Params = append(f.Params, p.Value.Float32s())
	}
	for _, n := range t.model.Norms {
		f.BNMean = append(f.BNMean, n.State.Mean)
		f.BNVar = append(f.BNVar, n.State.Var)
	}
	commit := func() error { return nil }
	if t.opt.Commit != nil {
		commit = func() error { return t.opt.Commit(t.st.Step) }
	}
	if err := writeCheckpoint(path, &f, commit); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

// writeCheckpoint writes f to a synced temporary file, calls commit, and
// renames the file into place only when commit succeeds. A process killed
// anywhere in between leaves the previous checkpoint in place.
func writeCheckpoint(path string, f *checkpointFile, commit func() error) error {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(f); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	b := buf.Bytes()
	_, err = tmp.Write(b[:len(b)/2])
	fault.Point(fault.CheckpointHalfWritten)
	if err == nil {
		_, err = tmp.Write(b[len(b)/2:])
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fault.Point(fault.CheckpointBeforeCommit)
	if err := commit(); err != nil {
		return err
	}
	fault.Point(fault.CheckpointBeforeRename)
	return os.Rename(tmp.Name(), path)
}

func readCheckpoint(path string) (*checkpointFile, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var f checkpointFile
	if err := gob.NewDecoder(bufio.NewReaderSize(fh, 1<<20)).Decode(&f); err != nil {
		return nil, fmt.Errorf("checkpoint %s: unreadable (%v)", path, err)
	}
	if f.Format != checkpointFormat {
		return nil, fmt.Errorf("checkpoint %s: format %q, want %q", path, f.Format, checkpointFormat)
	}
	return &f, nil
}

// sameRun reports why a checkpoint written with config a cannot continue a
// run with config b; "" when it can. How often the run logs and evaluates
// does not change what it computes.
func sameRun(a, b Config) string {
	a.LogEvery, b.LogEvery = 0, 0
	a.EvalEvery, b.EvalEvery = 0, 0
	if reflect.DeepEqual(a, b) {
		return ""
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			name, _, _ := strings.Cut(va.Type().Field(i).Tag.Get("json"), ",")
			return fmt.Sprintf("%s is %v in the checkpoint, %v now", name, va.Field(i).Interface(), vb.Field(i).Interface())
		}
	}
	return "the configs differ"
}

// restore copies the checkpoint's weights and running statistics into m,
// after checking that they describe the same network.
func (f *checkpointFile) restore(path string, m *nets.Model) error {
	if len(f.Params) != len(m.Params) || len(f.BNMean) != len(m.Norms) || len(f.BNVar) != len(m.Norms) {
		return fmt.Errorf("checkpoint %s: %d parameters and %d norms, the network has %d and %d", path, len(f.Params), len(f.BNMean), len(m.Params), len(m.Norms))
	}
	for j, p := range m.Params {
		if f.Names[j] != p.Name || !slices.Equal(f.Shapes[j], p.Shape) || len(f.Params[j]) != p.Size() {
			return fmt.Errorf("checkpoint %s: parameter %d is %s %v, the network has %s %v", path, j, f.Names[j], f.Shapes[j], p.Name, p.Shape)
		}
	}
	for j, p := range m.Params {
		copy(p.Value.Float32s(), f.Params[j])
	}
	for i, n := range m.Norms {
		if len(f.BNMean[i]) != len(n.State.Mean) || len(f.BNVar[i]) != len(n.State.Var) {
			return fmt.Errorf("checkpoint %s: batch norm %s has %d channels, the network %d", path, n.Name, len(f.BNMean[i]), len(n.State.Mean))
		}
		copy(n.State.Mean, f.BNMean[i])
		copy(n.State.Var, f.BNVar[i])
	}
	return nil
}

// load continues the run from the checkpoint at path.
func (t *trainer) load(path string) error {
	f, err := readCheckpoint(path)
	if err != nil {
		return err
	}
	if why := sameRun(f.Config, t.cfg); why != "" {
		return fmt.Errorf("checkpoint %s belongs to another run: %s", path, why)
	}
	if f.Fingerprint != t.ds.Fingerprint() {
		return fmt.Errorf("checkpoint %s was trained on data set fingerprint %s, %s has %s", path, f.Fingerprint, t.ds.Spec(), t.ds.Fingerprint())
	}
	if err := f.restore(path, t.model); err != nil {
		return err
	}
	if len(f.AdamM) != len(t.adam.m) || len(f.AdamV) != len(t.adam.v) || len(f.AdamT) != len(t.adam.t) {
		return fmt.Errorf("checkpoint %s: optimizer state has %d moments, the network needs %d", path, len(f.AdamM), len(t.adam.m))
	}
	copy(t.adam.m, f.AdamM)
	copy(t.adam.v, f.AdamV)
	copy(t.adam.t, f.AdamT)
	t.st = f.State
	if t.st.LogSums == nil {
		t.st.LogSums = map[string]float64{}
	}
	return nil
}

// CheckpointWeights reads the parameters of a checkpoint by name, and the
// batch norms' running statistics as "bn.N.mean" / "bn.N.var", all widened
// to float64 (exactly), so that tests can compare two runs' final states.
func CheckpointWeights(path string) (map[string][]float64, error) {
	f, err := readCheckpoint(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]float64, len(f.Params)+2*len(f.BNMean))
	for i, name := range f.Names {
		w := make([]float64, len(f.Params[i]))
		for j, x := range f.Params[i] {
			w[j] = float64(x)
		}
		out[name] = w
	}
	for i := range f.BNMean {
		out[fmt.Sprintf("bn.%d.mean", i)] = f.BNMean[i]
		out[fmt.Sprintf("bn.%d.var", i)] = f.BNVar[i]
	}
	return out, nil
}
