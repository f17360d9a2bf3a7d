package reporttest

import (
	"context"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/mksmt/workbench/internal/store"
)

// Config is the stand-in config JSON of a fixture run: unique per study,
// variant and seed, as the real canonical JSON is.
func Config(study, variant string, seed int64) string {
	return fmt.Sprintf(`{"study":%q,"variant":%q,"seed":%d}`, study, variant, seed)
}

// Configs is Query.Configs for a fixture study: s.Configs when set, else
// the stand-in Config of every variant and seed.
func Configs(s Study) map[string]map[int64]string {
	if s.Configs != nil {
		return s.Configs
	}
	out := map[string]map[int64]string{}
	for _, v := range s.Spec.Variants {
		out[v] = map[int64]string{}
		for _, seed := range s.Spec.Seeds {
			out[v][seed] = Config(s.Spec.Name, v, seed)
		}
	}
	return out
}

// WriteDB records the studies in st through the store's API, as the runner
// would: each run created, started, its series logged and its summaries
// written as it finishes. So that readers must choose, it also records for
// every study a failed run, an older finished run of the first variant and
// seed with other numbers (superseded by the newer one), and a finished run
// with another config (another profile).
func WriteDB(ctx context.Context, st *store.Store, studies ...Study) error {
	prov := store.Provenance{Host: "fixture", PID: os.Getpid(), GoVersion: "go", Dataset: "synthetic"}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range studies {
		if err := st.PutStudy(ctx, store.Study{Name: s.Spec.Name, Title: s.Spec.Title, Spec: "# fixture", SpecHash: s.Spec.Name}); err != nil {
			return err
		}
		add := func(variant string, seed int64, config string, end store.End, series bool) error {
			id, err := st.CreateRun(ctx, store.NewRun{Study: s.Spec.Name, Variant: variant, Seed: seed,
				Config: config, ConfigHash: fmt.Sprintf("%x", len(config)) + config, Owner: prov})
			if err != nil {
				return err
			}
			if err := st.StartRun(ctx, id, prov); err != nil {
				return err
			}
			if series {
				var ms []store.Metric
				for _, sr := range s.Series {
					if sr.Variant != variant || sr.Seed != seed {
						continue
					}
					for _, p := range sr.Points {
						m := store.Metric{RunID: id, Key: sr.Metric, Value: p.Y, Time: t0}
						if sr.Metric[:4] == "acc." {
							m.Epoch, m.Step = int(p.X), int(p.X)*100
						} else { // X in epochs of 100 updates
							m.Step = int(math.Round(p.X * 100))
							m.Epoch = (m.Step + 99) / 100
						}
						ms = append(ms, m)
					}
				}
				if err := st.LogMetrics(ctx, ms); err != nil {
					return err
				}
			}
			return st.EndRun(ctx, id, end)
		}
		cfg := Configs(s)
		config := func(v string, seed int64) string {
			if c, ok := cfg[v][seed]; ok {
				return c
			}
			return Config(s.Spec.Name, v, seed)
		}
		first := s.Results[0]
		junk := map[string]float64{}
		for k, v := range first.Summaries {
			junk[k] = v - 50
		}
		if err := add(first.Variant, first.Seed, config(first.Variant, first.Seed),
			store.End{Status: store.Finished, Summaries: junk}, false); err != nil {
			return err
		}
		if err := add(first.Variant, first.Seed, config(first.Variant, first.Seed)+" ",
			store.End{Status: store.Failed, Error: "fixture failure"}, false); err != nil {
			return err
		}
		for _, r := range s.Results {
			if err := add(r.Variant, r.Seed, config(r.Variant, r.Seed),
				store.End{Status: store.Finished, Summaries: r.Summaries}, true); err != nil {
				return err
			}
		}
		if err := add(first.Variant, first.Seed, `{"profile":"other"}`,
			store.End{Status: store.Finished, Summaries: junk}, false); err != nil {
			return err
		}
	}
	return nil
}
