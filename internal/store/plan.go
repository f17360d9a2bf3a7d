package store

// Plan says what a submission (the runner's Submit or Resume) did with
// each of its jobs, by run ID. It lives here, beside the runs it names, so
// that the TUI reads it without linking the runner.
type Plan struct {
	Queued  []int64 // new runs, queued to train
	Resumed []int64 // interrupted runs queued to continue from their checkpoints
	Reused  []int64 // identical finished (or diverged) runs: nothing to train
	Busy    []int64 // identical runs already queued or running (here or in another live process)
}

// Train is the number of runs the plan trains.
func (p Plan) Train() int { return len(p.Queued) + len(p.Resumed) }

// Add appends q's runs to p.
func (p *Plan) Add(q Plan) {
	p.Queued = append(p.Queued, q.Queued...)
	p.Resumed = append(p.Resumed, q.Resumed...)
	p.Reused = append(p.Reused, q.Reused...)
	p.Busy = append(p.Busy, q.Busy...)
}
