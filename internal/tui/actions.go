package tui

import (
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mksmt/workbench/internal/store"
)

// The actions that cross screens: opening one screen from another, and
// handing work to the runner (always after a confirmation where it stops
// or starts training, and always in a tea.Cmd, off the UI goroutine).

// openCompare shows the Compare screen on a study.
func (m *Model) openCompare(study string) tea.Cmd {
	m.screens[screenCompare].(*compareScreen).choose(study)
	if m.active == screenCompare {
		return m.screens[screenCompare].load(m)
	}
	return m.switchTo(screenCompare)
}

// openBuilder shows the builder, empty or filled from a study's spec to
// edit it in place or (copy) as a new study.
func (m *Model) openBuilder(from *studyRow, copy bool) tea.Cmd {
	b := m.screens[screenBuilder].(*builderScreen)
	var cmd tea.Cmd
	if from == nil {
		cmd = b.reset(m)
	} else {
		cmd = b.fill(m, from.specPath, copy)
	}
	return tea.Batch(cmd, m.switchTo(screenBuilder))
}

// runStudy asks, then hands a study's spec to the runner.
func (m *Model) runStudy(name, specPath string, specErr error, profile string, runs int) tea.Cmd {
	switch {
	case m.be.runner == nil:
		m.setStatus("", errNoRunner)
		return nil
	case specPath == "":
		m.setStatus(fmt.Sprintf("study %s has no spec file in %s/ to run", name, m.be.specDir), nil)
		return nil
	case specErr != nil:
		m.setStatus("", fmt.Errorf("study %s: %s", name, firstLine(specErr.Error())))
		return nil
	}
	shown := profile
	if shown == "" {
		shown = "the default"
	}
	m.ask(fmt.Sprintf("Run study %s: %d run(s), profile %s?\nFinished identical runs are reused.", name, runs, shown), func() tea.Cmd {
		return m.enqueue(specPath, "", true)
	})
	return nil
}

// enqueue hands a spec to the runner in the background; hint adds where
// to watch it (not needed when the caller shows Live).
func (m *Model) enqueue(specPath, profile string, hint bool) tea.Cmd {
	r, ctx := m.be.runner, m.ctx
	return tea.Sequence(func() tea.Msg {
		plan, err := r.Enqueue(ctx, specPath, profile)
		if err != nil {
			return statusMsg{err: fmt.Errorf("run %s: %w", specPath, err)}
		}
		text := fmt.Sprintf("%s: %s", specPath, planText(plan))
		if hint {
			text += " — watch on 4 Live"
		}
		return statusMsg{text: text}
	}, m.loadActive())
}

// cancelRuns asks, then cancels the queued or running ones among runs.
func (m *Model) cancelRuns(runs []store.Run) tea.Cmd {
	if m.be.runner == nil {
		m.setStatus("", errNoRunner)
		return nil
	}
	ids := runIDs(runs, store.Running, store.Queued)
	if len(ids) == 0 {
		m.setStatus("nothing to cancel: only queued or running runs can be cancelled", nil)
		return nil
	}
	m.ask(fmt.Sprintf("Cancel %s?\nA running run checkpoints and ends interrupted; r resumes it.\n"+
		"A run trained by another workbench process stops with all of that process's runs.", runList(ids)), func() tea.Cmd {
		r := m.be.runner
		return func() tea.Msg {
			var errs []string
			for _, id := range ids {
				if err := r.Cancel(id); err != nil {
					errs = append(errs, fmt.Sprintf("run %d: %v", id, err))
				}
			}
			if len(errs) > 0 {
				return statusMsg{err: fmt.Errorf("cancel: %s", strings.Join(errs, "; "))}
			}
			return statusMsg{text: "cancelled " + runList(ids)}
		}
	})
	return nil
}

// runsChangedMsg says that runs were archived or removed: Runs reloads
// (and closes the detail of a removed run).
type runsChangedMsg struct{ removed []int64 }

// cancelOrArchive is x: it cancels the queued or running runs among runs
// (asking first); when none is, it archives the ended ones, or unarchives
// them when all are archived (asking first). archived[i] is whether
// runs[i] is archived.
func (m *Model) cancelOrArchive(runs []store.Run, archived []bool) tea.Cmd {
	if len(runIDs(runs, store.Running, store.Queued)) > 0 {
		return m.cancelRuns(runs)
	}
	ids := runIDs(runs, store.Finished, store.Failed, store.Interrupted, store.Diverged)
	if len(ids) == 0 {
		m.setStatus("nothing to cancel or archive", nil)
		return nil
	}
	undo := !slices.Contains(archived, false)
	prompt := fmt.Sprintf("Archive %s?\nArchived runs are kept (tables, reuse) but hidden from Runs; /archived:true shows them, x there unarchives.", runList(ids))
	done := "archived "
	if undo {
		prompt = fmt.Sprintf("Unarchive %s?", runList(ids))
		done = "unarchived "
	}
	st, ctx := m.be.store, m.ctx
	m.ask(prompt, func() tea.Cmd {
		return tea.Sequence(func() tea.Msg {
			if _, err := st.Archive(ctx, ids, !undo); err != nil {
				return statusMsg{err: err}
			}
			return statusMsg{text: done + runList(ids)}
		}, func() tea.Msg { return runsChangedMsg{} })
	})
	return nil
}

// removeRuns is X: it asks, then removes the ended runs among runs for
// good (store.DeleteRuns: rows, metric points and files).
func (m *Model) removeRuns(runs []store.Run) tea.Cmd {
	ids := runIDs(runs, store.Finished, store.Failed, store.Interrupted, store.Diverged)
	if len(ids) == 0 {
		m.setStatus("nothing to remove: only ended runs can be removed (x cancels a running one)", nil)
		return nil
	}
	st, ctx := m.be.store, m.ctx
	m.ask(fmt.Sprintf("Remove %s for good?\nTheir metrics, summaries and checkpoint files are deleted; x archives instead.", runList(ids)), func() tea.Cmd {
		return tea.Sequence(func() tea.Msg {
			rm, err := st.DeleteRuns(ctx, ids)
			if err != nil {
				return statusMsg{err: err}
			}
			return statusMsg{text: fmt.Sprintf("removed %s (%d file(s))", runList(rm.IDs), len(rm.Files))}
		}, func() tea.Msg { return runsChangedMsg{removed: ids} })
	})
	return nil
}

// tagRuns asks for tags and adds them to runs (a "-name" removes one).
func (m *Model) tagRuns(runs []store.Run) tea.Cmd {
	if len(runs) == 0 {
		return nil
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	slices.Sort(ids)
	st, ctx := m.be.store, m.ctx
	return m.askText(fmt.Sprintf("Tags for %s: names to add, -name to remove", runList(ids)), "", func(text string) tea.Cmd {
		var add, del []string
		for _, w := range strings.FieldsFunc(text, func(r rune) bool { return r == ' ' || r == ',' }) {
			if name, ok := strings.CutPrefix(w, "-"); ok {
				del = append(del, name)
			} else {
				add = append(add, w)
			}
		}
		if len(add)+len(del) == 0 {
			return nil
		}
		return tea.Sequence(func() tea.Msg {
			for _, id := range ids {
				if len(add) > 0 {
					if _, err := st.AddTags(ctx, id, add...); err != nil {
						return statusMsg{err: err}
					}
				}
				if len(del) > 0 {
					if _, err := st.RemoveTags(ctx, id, del...); err != nil {
						return statusMsg{err: err}
					}
				}
			}
			return statusMsg{text: fmt.Sprintf("tagged %s: %s", runList(ids), text)}
		}, func() tea.Msg { return runsChangedMsg{} })
	})
}

// noteRun asks for a run's note (starting from the one it has) and sets
// it; an empty note clears it.
func (m *Model) noteRun(r store.Run, current string) tea.Cmd {
	st, ctx := m.be.store, m.ctx
	return m.askText(fmt.Sprintf("Note for run %d (empty clears it)", r.ID), current, func(text string) tea.Cmd {
		text = strings.TrimSpace(text)
		return tea.Sequence(func() tea.Msg {
			if err := st.SetNote(ctx, r.ID, text); err != nil {
				return statusMsg{err: err}
			}
			if text == "" {
				return statusMsg{text: fmt.Sprintf("cleared the note of run %d", r.ID)}
			}
			return statusMsg{text: fmt.Sprintf("noted run %d", r.ID)}
		}, func() tea.Msg { return runsChangedMsg{} })
	})
}

// resumeRuns queues the interrupted or failed ones among runs again.
func (m *Model) resumeRuns(runs []store.Run) tea.Cmd {
	if m.be.runner == nil {
		m.setStatus("", errNoRunner)
		return nil
	}
	ids := runIDs(runs, store.Interrupted, store.Failed)
	if len(ids) == 0 {
		m.setStatus("nothing to resume: only interrupted or failed runs can be resumed", nil)
		return nil
	}
	r, ctx := m.be.runner, m.ctx
	return tea.Sequence(func() tea.Msg {
		plan, err := r.Resume(ctx, ids...)
		if err != nil {
			return statusMsg{err: fmt.Errorf("resume %s: %w", runList(ids), err)}
		}
		return statusMsg{text: fmt.Sprintf("resume %s: %s", runList(ids), planText(plan))}
	}, m.loadActive())
}

// runIDs lists the ids of the runs whose status is one of statuses.
func runIDs(runs []store.Run, statuses ...store.Status) []int64 {
	var ids []int64
	for _, r := range runs {
		if slices.Contains(statuses, r.Status) {
			ids = append(ids, r.ID)
		}
	}
	return ids
}

// planText says what the runner made of a submission.
func planText(p store.Plan) string {
	parts := []string{fmt.Sprintf("%d queued", len(p.Queued))}
	if n := len(p.Resumed); n > 0 {
		parts = append(parts, fmt.Sprintf("%d resumed", n))
	}
	if n := len(p.Reused); n > 0 {
		parts = append(parts, fmt.Sprintf("%d reused (already finished)", n))
	}
	if n := len(p.Busy); n > 0 {
		parts = append(parts, fmt.Sprintf("%d already running", n))
	}
	return strings.Join(parts, ", ")
}

// runList names runs: "run 4", "runs 4, 5, 9", "12 runs".
func runList(ids []int64) string {
	switch {
	case len(ids) == 1:
		return fmt.Sprintf("run %d", ids[0])
	case len(ids) <= 5:
		s := make([]string, len(ids))
		for i, id := range ids {
			s[i] = fmt.Sprint(id)
		}
		return "runs " + strings.Join(s, ", ")
	}
	return fmt.Sprintf("%d runs", len(ids))
}

// openRun shows a run's details on the Runs screen.
func (m *Model) openRun(id int64) tea.Cmd {
	rs := m.screens[screenRuns].(*runsScreen)
	cmd := rs.open(m, id)
	if m.active != screenRuns {
		return tea.Batch(cmd, m.switchTo(screenRuns))
	}
	return cmd
}

// openLive shows a run on Live, whatever its status: a run that is not
// queued or running is pinned below the active ones until esc.
func (m *Model) openLive(id int64) tea.Cmd {
	l := m.screens[screenLive].(*liveScreen)
	l.pinned, l.want = id, id
	if m.active == screenLive {
		return l.load(m)
	}
	return m.switchTo(screenLive)
}
