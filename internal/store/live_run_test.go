package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// Two planners (two `submit`s, a `run` beside a worker), each with its own
// connection, create the same runs at the same moment: every config gets
// exactly one run, and the losers are told its id.
func TestOneLiveRunPerConfig(t *testing.T) {
	loc := newLocation(t)
	first, err := openAt(t, loc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	mustStudy(t, first, "sweep")
	const planners, configs = 6, 25
	type made struct {
		id   int64
		live bool
	}
	var mu sync.Mutex
	got := map[string][]made{}
	var wg sync.WaitGroup
	errs := make(chan error, planners)
	for p := range planners {
		s, err := openAt(t, loc, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range configs {
				hash := fmt.Sprintf("cfg-%d", (c+p)%configs) // each planner in its own order
				id, err := s.CreateRun(ctx, NewRun{Study: "sweep", Variant: "v", Seed: int64(c), Config: "{}", ConfigHash: hash})
				live := errors.Is(err, ErrRunLive)
				if err != nil && !live {
					errs <- err
					return
				}
				mu.Lock()
				got[hash] = append(got[hash], made{id, live})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	runs, err := first.Runs(ctx, RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != configs {
		t.Fatalf("%d runs created for %d configs by %d planners", len(runs), configs, planners)
	}
	for hash, ms := range got {
		created := 0
		for _, m := range ms {
			if !m.live {
				created++
			}
			if m.id != ms[0].id {
				t.Fatalf("%s: planners were given runs %v", hash, ms)
			}
		}
		if created != 1 || len(ms) != planners {
			t.Fatalf("%s: created %d times by %d planners", hash, created, len(ms))
		}
	}

	// Once the run has ended, the same config may be trained again (run --force).
	id := got["cfg-0"][0].id
	if err := first.EndRun(ctx, id, End{Status: Finished}); err != nil {
		t.Fatal(err)
	}
	again, err := first.CreateRun(ctx, NewRun{Study: "sweep", Variant: "v", Seed: 0, Config: "{}", ConfigHash: "cfg-0"})
	if err != nil || again == id {
		t.Fatalf("a new run of a finished config: id %d (old %d), err %v", again, id, err)
	}

	// An interrupted run is not queued again beside a live identical one.
	old := got["cfg-1"][0].id
	if err := first.EndRun(ctx, old, End{Status: Interrupted}); err != nil {
		t.Fatal(err)
	}
	live, err := first.CreateRun(ctx, NewRun{Study: "sweep", Variant: "v", Seed: 1, Config: "{}", ConfigHash: "cfg-1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Requeue(ctx, old); !errors.Is(err, ErrConflict) {
		t.Fatalf("requeue beside live run %d: %v, want ErrConflict", live, err)
	}
}

// Live duplicates written before migration 8 keep the newest run; the
// older ones end interrupted with a reason, their data intact.
func TestMigration8KeepsNewestLiveDuplicate(t *testing.T) {
	loc := newLocation(t)
	old := openRaw(t, loc)
	if _, err := old.migrate(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if _, err := old.db.Exec(`INSERT INTO studies (name, title, spec, spec_hash, created, updated) VALUES ('s', '', 'x', 'h', 1, 1);
		INSERT INTO runs (id, study, variant, seed, config, config_hash, status, created)
			VALUES (1, 's', 'a', 1, '{}', 'same', 'queued', 1), (2, 's', 'a', 1, '{}', 'same', 'running', 2),
			       (3, 's', 'b', 1, '{}', 'other', 'queued', 3), (4, 's', 'a', 1, '{}', 'same', 'finished', 4);
		INSERT INTO metrics (run_id, key, step, epoch, value, time) VALUES (1, 'loss.ce4', 1, 1, 2.5, 5);`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	s, err := openAt(t, loc, Options{NoRecover: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := map[int64]Status{1: Interrupted, 2: Running, 3: Queued, 4: Finished}
	for id, st := range want {
		r, err := s.Run(ctx, id)
		if err != nil || r.Status != st {
			t.Fatalf("run %d after migration 8: %v %v, want %s", id, r.Status, err, st)
		}
	}
	if r, _ := s.Run(ctx, 1); r.Error == "" {
		t.Fatal("the interrupted duplicate has no reason")
	}
	if series, err := s.Series(ctx, []int64{1}, nil, 0); err != nil || len(series) != 1 {
		t.Fatalf("the duplicate's points: %v, %v", series, err)
	}
}
