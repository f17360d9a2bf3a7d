package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mksmt/workbench/internal/store"
)

// cli runs the CLI in-process and returns stdout, stderr and the exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), args, IO{In: strings.NewReader(""), Out: &out, Err: &errb,
		Getenv: func(string) string { return "" }})
	return out.String(), errb.String(), code
}

// runsFixture writes a runs.db with one run of each ending, a running run,
// metric points and a run shared by two studies; it returns its path.
func runsFixture(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "runs.db")
	st, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	host, _ := os.Hostname()
	me := store.Provenance{Host: host, PID: os.Getpid(), GoVersion: "go1.26", GitCommit: "0123456789abcdef", GitDirty: true, BLAS: "Haswell",
		CodeVersion: "src.aaaa", Dataset: "synthetic", DatasetFingerprint: "fp"}
	for _, name := range []string{"table9", "table10"} {
		if err := st.PutStudy(ctx, store.Study{Name: name, Title: "Title " + name, Spec: "name = \"" + name + "\"\n", SpecHash: "h" + name}); err != nil {
			t.Fatal(err)
		}
	}
	type fixtureRun struct {
		variant string
		seed    int64
		params  map[string]string
		end     *store.End // nil: left running
	}
	runs := []fixtureRun{
		{"baseline", 1, map[string]string{"profile": "smoke", "steps": "0"}, &store.End{Status: store.Finished,
			Summaries: map[string]float64{"acc.S4": 61.25, "acc.S3": 55, "params.inference": 11692, "loss.final": math.NaN()}}},
		{"two-step", 1, map[string]string{"profile": "smoke", "steps": "2"}, &store.End{Status: store.Diverged,
			Error: "diverged: loss.kd is not finite at step 42", DivergedStep: 42}},
		{"three-step", 1, map[string]string{"profile": "quick", "steps": "3"}, &store.End{Status: store.Failed,
			Error: "data set synthetic: out of memory\ngoroutine 1 [running]"}},
		{"two-step", 2, map[string]string{"profile": "smoke", "steps": "2"}, nil},
	}
	for _, r := range runs {
		id, err := st.CreateRun(ctx, store.NewRun{Study: "table9", Variant: r.variant, Seed: r.seed, Config: `{"steps":1}`,
			ConfigHash: r.variant + "-" + string(rune('0'+r.seed)), Params: r.params, Owner: me})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.StartRun(ctx, id, me); err != nil {
			t.Fatal(err)
		}
		var pts []store.Metric
		for step := 1; step <= 10; step++ {
			pts = append(pts, store.Metric{RunID: id, Key: "loss.ce4", Step: step, Epoch: 1, Value: 2 / float64(step)})
		}
		if err := st.LogMetrics(ctx, pts); err != nil {
			t.Fatal(err)
		}
		if r.end == nil {
			if _, err := st.Heartbeat(ctx, me.Host, me.PID, []store.Beat{{RunID: id, Progress: store.Progress{Step: 10, Batch: 5, TotalBatches: 20, Epoch: 1,
				ImagesPerSec: 300, Latest: map[string]float64{"acc.S4": 33.5}}}}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := st.EndRun(ctx, id, *r.end); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.AddArtifact(ctx, store.Artifact{RunID: 1, Kind: store.ArtifactCheckpoint, Name: "1.ckpt", Path: st.CheckpointPath(1)}); err != nil {
		t.Fatal(err)
	}
	if err := st.AddToStudy(ctx, 1, "table10", "sync"); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestRunsVerb(t *testing.T) {
	db := runsFixture(t)
	tests := []struct {
		name    string
		args    []string
		rows    []string // regexps, one per expected row, in order
		summary string
	}{
		{"all", nil, []string{
			`^1\s+finished\s+table9\s+baseline\s+1\s+smoke\s+100%\s+55\.0\s+61\.2`,
			`^2\s+diverged\s+table9\s+two-step\s+1\s+smoke\s+-\s+-\s+-\s+\S+\s+-\s+diverged at step 42$`,
			`^3\s+failed\s+table9\s+three-step\s+1\s+quick\s+-\s+-\s+-\s+\S+\s+-\s+data set synthetic: out of memory$`,
			`^4\s+running\s+table9\s+two-step\s+2\s+smoke\s+25%\s+-\s+\(33\.5\)\s+\S+\s+-\s+pid \d+ on \S+, attempt 1, heartbeat`,
		}, "4 run(s): 1 running, 1 finished, 1 failed, 1 diverged"},
		{"status", []string{"--status", "failed,diverged"}, []string{`^2\s+diverged`, `^3\s+failed`}, "2 run(s): 1 failed, 1 diverged"},
		{"param", []string{"--param", "profile=smoke", "--param", "steps=2"}, []string{`^2\s`, `^4\s`}, "2 run(s)"},
		{"study labels", []string{"--study", "table10"}, []string{`^1\s+finished\s+table10\s+sync\s`}, "1 run(s): 1 finished"},
		{"variant", []string{"--variant", "two-step", "--limit", "1"}, []string{`^4\s+running`}, "1 run(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := cli(t, append([]string{"runs", "--db", db}, tt.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if !strings.HasPrefix(lines[0], "ID  STATUS") || len(lines) != len(tt.rows)+2 {
				t.Fatalf("want header, %d rows and a tally:\n%s", len(tt.rows), out)
			}
			for i, re := range tt.rows {
				if !regexp.MustCompile(re).MatchString(lines[i+1]) {
					t.Errorf("row %d %q does not match %s", i+1, lines[i+1], re)
				}
			}
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, tt.summary) {
				t.Errorf("tally %q, want %q", last, tt.summary)
			}
		})
	}

	out, _, code := cli(t, "runs", "--db", db, "--json")
	var recs []runRecord
	if err := json.Unmarshal([]byte(out), &recs); code != 0 || err != nil {
		t.Fatalf("runs --json: exit %d, %v\n%s", code, err, out)
	}
	if len(recs) != 4 || recs[0].Summaries["acc.S4"] == nil || *recs[0].Summaries["acc.S4"] != 61.25 ||
		recs[0].Summaries["loss.final"] != nil || recs[0].Params["profile"] != "smoke" || !recs[0].GitDirty ||
		recs[1].DivergedStep == nil || *recs[1].DivergedStep != 42 || recs[3].Progress == nil || recs[3].Progress.Batch != 5 {
		t.Fatalf("records: %+v", recs)
	}

	out, _, _ = cli(t, "runs", "--db", db, "--csv", "--status", "finished")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("runs --csv: %v\n%s", err, out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if rows[1][col["acc.S4"]] != "61.25" || rows[1][col["loss.final"]] != "NaN" || rows[1][col["param.profile"]] != "smoke" || rows[1][col["status"]] != "finished" {
		t.Fatalf("csv row %v (header %v)", rows[1], rows[0])
	}
}

func TestRunsVerbErrors(t *testing.T) {
	db := runsFixture(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"runs", "--db", filepath.Join(t.TempDir(), "none.db")}, "no runs database at"},
		{[]string{"runs", "--db", db, "--status", "done"}, `unknown run status "done" (allowed: queued, running, finished, failed, interrupted, diverged)`},
		{[]string{"runs", "--db", db, "--json", "--csv"}, "choose one of --json and --csv"},
		{[]string{"runs", "--db", db, "--param", "profile"}, "want key=value"},
		{[]string{"show", "--db", db, "99"}, "no run 99 in"},
		{[]string{"show", "--db", db, "x"}, `"x" is not a run id`},
		{[]string{"show", "--db", db}, "name one run id"},
		{[]string{"export", "--db", db, "--csv", "--json"}, "choose one of --csv and --json"},
		{[]string{"resume", "--db", db, "1"}, "run 1 is finished; to compute it again use `workbench run --force`"},
		{[]string{"run"}, "name at least one study"},
		{[]string{"run", "table9", "--seeds", "1,x"}, `run: --seeds: "x" is not an integer`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errs, code := cli(t, tt.args...)
			if code == 0 || !strings.Contains(errs, tt.want) {
				t.Fatalf("exit %d, stderr %q; want an error containing %q", code, errs, tt.want)
			}
		})
	}
}

func TestShowVerb(t *testing.T) {
	db := runsFixture(t)
	out, errs, code := cli(t, "show", "--db", db, "1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, re := range []string{
		`(?m)^Run 1\s+table9 / baseline, seed 1$`,
		`(?m)^Also used by\s+table10 \(sync\)$`,
		`(?m)^Status\s+finished$`,
		`(?m)^Code\s+src\.aaaa, git 0123456789ab \(dirty\), go1\.26, OpenBLAS Haswell kernels$`,
		`(?m)^Data\s+synthetic \(fingerprint fp\)$`,
		`(?m)^  profile\s+smoke$`,
		`(?m)^  acc\.S4\s+61\.25$`,
		`(?m)^  loss\.final\s+NaN$`,
		`(?m)^  params\.inference\s+11692$`,
		`(?m)^  loss\.ce4\s+10\s+2\s+0\.2\s+0\.2\s+2\s+10$`,
		`(?m)^  checkpoint\s+1\.ckpt\s+\S+/runs\.db\.d/ckpt/1\.ckpt \(missing\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("show does not match %s:\n%s", re, out)
		}
	}
	out, _, _ = cli(t, "show", "--db", db, "3")
	if !regexp.MustCompile(`(?m)^Error\s+data set synthetic: out of memory\n\s+goroutine 1 \[running\]$`).MatchString(out) {
		t.Errorf("show of a failed run:\n%s", out)
	}
	out, _, _ = cli(t, "show", "--db", db, "--json", "#2")
	var rec runRecord
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.ID != 2 || rec.Status != store.Diverged || len(rec.Studies) != 1 {
		t.Fatalf("show --json: %v\n%s", err, out)
	}
}

func TestExportVerb(t *testing.T) {
	db := runsFixture(t)
	out, errs, code := cli(t, "export", "--db", db)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc exportDoc
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.SchemaVersion != store.LatestSchemaVersion() || len(doc.Studies) != 2 || len(doc.Runs) != 4 ||
		doc.Studies[1].Name != "table9" || doc.Studies[1].Total != 4 || doc.Studies[0].Total != 1 ||
		len(doc.Runs[0].Artifacts) != 1 || len(doc.Runs[0].Studies) != 2 || doc.Runs[0].Metrics != nil || doc.Runs[0].BLAS != "Haswell" {
		t.Fatalf("export: %+v", doc)
	}

	path := filepath.Join(t.TempDir(), "runs.json")
	if _, errs, code := cli(t, "export", "--db", db, "--study", "table10", "--metrics", "--out", path); code != 0 || !strings.Contains(errs, "exported 1 run(s) to") {
		t.Fatalf("export --out: exit %d, %s", code, errs)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc = exportDoc{}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Studies) != 1 || len(doc.Runs) != 1 || doc.Runs[0].Variant != "sync" || len(doc.Runs[0].Metrics) != 1 ||
		len(doc.Runs[0].Metrics[0].Points) != 10 || *doc.Runs[0].Metrics[0].Points[9].Value != 0.2 {
		t.Fatalf("export of table10 with metrics: %+v", doc)
	}

	out, _, _ = cli(t, "export", "--db", db, "--csv", "--metrics")
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) != 1+4*10 || strings.Join(rows[0], ",") != "run_id,study,variant,seed,key,step,epoch,value,time" {
		t.Fatalf("export --csv --metrics: %v, %d rows", err, len(rows))
	}
	out, _, _ = cli(t, "export", "--db", db, "--csv")
	if rows, err := csv.NewReader(strings.NewReader(out)).ReadAll(); err != nil || len(rows) != 5 {
		t.Fatalf("export --csv: %v\n%s", err, out)
	}
}

func TestVersionVerb(t *testing.T) {
	out, _, code := cli(t, "version")
	if code != 0 || !regexp.MustCompile(`^workbench \S+\ngit commit \S+.*\ngo\S+ \S+/\S+, runs\.db schema \d+\nOpenBLAS kernels [A-Za-z]+\n(  \(.+\)\n)?convolutions oneDNN \d+\.\d+\.\d+, \S+\n$`).MatchString(out) {
		t.Fatalf("version: exit %d\n%s", code, out)
	}
	out, _, _ = cli(t, "version", "--json")
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil || v["code_version"] == "" || v["schema_version"] != float64(store.LatestSchemaVersion()) || v["blas"] == "" {
		t.Fatalf("version --json: %v\n%s", err, out)
	}
}

func TestTrimTextCutsBetweenWords(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"data set synthetic: out of memory while loading", 20, "data set synthetic…"},
		{"averyveryverylongwordwithoutspaces", 10, "averyvery…"},
	} {
		if got := trimText(tc.in, tc.n); got != tc.want || len([]rune(got)) > tc.n {
			t.Errorf("trimText(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}
