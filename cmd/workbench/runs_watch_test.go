package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/testenv"
)

// `runs --watch` redraws when a run changes: on PostgreSQL within a moment
// of the change (NOTIFY), well before its 2 s poll; on SQLite by the poll.
func TestRunsWatch(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			db := t.TempDir() + "/runs.db"
			artifacts := t.TempDir()
			within := 4 * time.Second
			if backend == "postgres" {
				testenv.Need(t, os.Getenv(testenv.EnvPG) != "", "no PostgreSQL server: set "+testenv.EnvPG+testenv.ClusterHint)
				db, within = testenv.PGSchema(t, "watch_"), 1500*time.Millisecond
			}
			st, err := store.OpenURL(db, store.Options{Artifacts: artifacts})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.PutStudy(context.Background(), store.Study{Name: "w", Spec: "x", SpecHash: "x"}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			out := &lockedBuffer{}
			done := make(chan error, 1)
			go func() {
				done <- runRuns(ctx, []string{"--watch", "--db", db}, IO{Out: out, Err: out, Getenv: os.Getenv})
			}()
			waitFor(t, out, "no runs", 5*time.Second)
			time.Sleep(300 * time.Millisecond) // the watch is listening
			changed := time.Now()
			if _, err := st.CreateRun(context.Background(), store.NewRun{Study: "w", Variant: "fresh", Seed: 1, Config: "{}", ConfigHash: "h"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, out, "fresh", within)
			t.Logf("%s: redrawn %s after the change", backend, time.Since(changed).Round(10*time.Millisecond))
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func waitFor(t *testing.T, out *lockedBuffer, text string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(out.String(), text) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %s:\n%s", text, within, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
