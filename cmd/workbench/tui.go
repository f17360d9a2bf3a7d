package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	goio "io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/term"

	"github.com/mksmt/workbench/internal/runner"
	"github.com/mksmt/workbench/internal/store"
	"github.com/mksmt/workbench/internal/tui"
)

func init() {
	register(&command{
		Name:    "tui",
		Summary: "the terminal UI: define ablations, run them, watch them train, compare (default on a terminal)",
		Run:     runTUI,
	})
}

func runTUI(ctx context.Context, args []string, io IO) error {
	fs := flag.NewFlagSet("tui", flag.ContinueOnError)
	fs.SetOutput(io.Err)
	db := fs.String("db", defaultDB(io), "the runs database: a file, or a postgres:// URL ($WORKBENCH_DB) (created if missing)")
	var tf trainFlags
	tf.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(io.Err, "usage: workbench [tui] [--db runs.db] [--jobs N]")
		fmt.Fprintln(io.Err, "\nStudies are read from experiments/, exports go to plots/. Press ? in the UI for the keys.")
		fs.PrintDefaults()
	}
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if !io.IsTTY || !isTerminalStream(io.In) || !isTerminalStream(io.Out) {
		return errNoTerminal
	}
	if err := tf.checkJobs("tui"); err != nil {
		return err
	}

	st, err := openForWrite(io, *db, false)
	if err != nil {
		return err
	}
	defer st.Close()
	// The runner draws no progress of its own: the TUI shows it.
	version := runner.DetectVersion(".") // walks the training sources: once per command
	prov := version.Provenance()
	r, err := runner.New(ctx, st, runner.Options{Jobs: tf.jobs, Provenance: &prov, CheckpointEvery: tf.checkpointEvery, DropFinishedCheckpoints: tf.dropCheckpoints})
	if err != nil {
		return err
	}
	q := &runner.Queue{Runner: r, Store: st, Fingerprint: datasetFingerprint, CodeVersion: version.Code}
	m, err := tui.New(ctx, tui.Options{Store: st, Runner: q, SpecDir: "experiments", PlotDir: "plots", Changes: st.Watch(ctx)})
	if err != nil {
		r.Close()
		return err
	}
	runErr := runProgram(ctx, m, io.In, io.Out)
	if errors.Is(runErr, tea.ErrProgramKilled) {
		runErr = nil // a signal: the runs stop below, as when the user chose to stop them
	}

	var leave []int64
	if m.Quit() == tui.QuitLeaveRuns && ctx.Err() == nil {
		if leave, err = ownRuns(ctx, st); err != nil {
			runErr = errors.Join(runErr, err)
		}
	}
	// Running runs checkpoint and end interrupted; queued ones are marked
	// interrupted.
	outcomes, closeErr := r.Close()
	if err := errors.Join(runErr, closeErr); err != nil {
		return err
	}
	stopped := 0
	for _, o := range outcomes {
		if o.Status == store.Interrupted {
			stopped++
		}
	}
	if len(leave) > 0 {
		return continueInBackground(io, *db, tf.jobs, tf.checkpointEvery, leave)
	}
	if stopped > 0 {
		fmt.Fprintf(io.Out, "stopped %d run(s) after a checkpoint: continue them with workbench resume (or r on the Runs screen)\n", stopped)
	}
	return nil
}

// errNoTerminal is the tui verb's answer off a terminal; runMain adds the
// list of verbs.
var errNoTerminal = errors.New("the terminal UI needs a terminal on stdin and stdout; use a verb, e.g. workbench runs")

// isTerminalStream reports whether s is a terminal. Unlike isTerminal it
// asks the terminal driver, so /dev/null (also a character device) is not
// one.
func isTerminalStream(s any) bool {
	f, ok := s.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(f.Fd())
}

// runProgram runs the terminal UI on in and out. bubbletea restores the
// terminal when its event loop ends (quit, signal, panic), but a failure
// after it has taken the terminal and before the loop starts (an input it
// cannot poll, for one) returns with the alternate screen still on, the
// cursor hidden and the input raw: then the terminal is released here.
func runProgram(ctx context.Context, m tea.Model, in goio.Reader, out goio.Writer) error {
	started := &atomic.Bool{}
	p := tea.NewProgram(startedModel{m, started}, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(in), tea.WithOutput(out))
	_, err := p.Run()
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) && started.Load() {
		// Not killed: Run did not shut down. Init ran, so the renderer
		// was started and ReleaseTerminal can stop it.
		if rerr := p.ReleaseTerminal(); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return err
}

// startedModel records that bubbletea called Init, which it does only
// after it has entered the alternate screen and started its renderer.
type startedModel struct {
	tea.Model
	started *atomic.Bool
}

func (s startedModel) Init() tea.Cmd {
	s.started.Store(true)
	return s.Model.Init()
}

func (s startedModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := s.Model.Update(msg)
	s.Model = m
	return s, cmd
}

// ownRuns lists the queued and running runs of this process.
func ownRuns(ctx context.Context, st *store.Store) ([]int64, error) {
	live, err := st.Live(ctx, store.RunFilter{})
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	var ids []int64
	for _, r := range live {
		if r.PID == os.Getpid() && r.Host == host {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// continueInBackground leaves runs going after the UI quits: this process
// has stopped them after a checkpoint, and a detached `workbench resume`
// continues exactly those runs from their checkpoints, writing its output
// to a log next to the database. The next `workbench` shows them on Live.
func continueInBackground(io IO, db string, jobs, every int, ids []int64) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("leave runs running: %w (continue them with workbench resume)", err)
	}
	logDir := db + ".d"
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("leave runs running: %w (continue them with workbench resume)", err)
	}
	logPath := filepath.Join(logDir, fmt.Sprintf("tui-resume-%d.log", os.Getpid()))
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("leave runs running: %w (continue them with workbench resume)", err)
	}
	defer logf.Close()
	args := []string{"resume", "--db", db, "--checkpoint-every", strconv.Itoa(every)}
	if jobs > 0 {
		args = append(args, "--jobs", strconv.Itoa(jobs))
	}
	words := make([]string, len(ids))
	for i, id := range ids {
		words[i] = strconv.FormatInt(id, 10)
	}
	args = append(args, words...)
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // not stopped by this terminal's signals
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("leave runs running: start workbench resume: %w (continue them with workbench resume)", err)
	}
	fmt.Fprintf(io.Out, "%d run(s) (%s) continue in the background from their checkpoints: process %d, log %s\n",
		len(ids), strings.Join(words, ", "), cmd.Process.Pid, logPath)
	fmt.Fprintf(io.Out, "watch them with workbench (4 Live); stop them with kill -INT %d (they checkpoint)\n", cmd.Process.Pid)
	return cmd.Process.Release()
}
