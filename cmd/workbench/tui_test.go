//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	tea "github.com/charmbracelet/bubbletea"
)

// openPTY opens a pseudo-terminal pair: what the program writes to slave
// can be read from master, as a terminal emulator would.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	var n uint32
	for _, c := range []struct {
		req uintptr
		arg unsafe.Pointer
	}{{syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)}, {syscall.TIOCGPTN, unsafe.Pointer(&n)}} {
		if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, master.Fd(), c.req, uintptr(c.arg)); errno != 0 {
			master.Close()
			t.Skipf("pseudo-terminal ioctl: %v", errno)
		}
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

// screen collects what the terminal receives until the slave side closes.
func screen(master *os.File) (done func() string) {
	var buf bytes.Buffer
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			buf.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	return func() string {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
		}
		return buf.String()
	}
}

const (
	altOn, altOff       = "\x1b[?1049h", "\x1b[?1049l"
	cursorOff, cursorOn = "\x1b[?25l", "\x1b[?25h"
)

// restored reports whether the terminal ends on the main screen with the
// cursor shown, given everything the program wrote to it.
func restored(out string) error {
	if strings.LastIndex(out, altOn) > strings.LastIndex(out, altOff) {
		return errors.New("left on the alternate screen")
	}
	if strings.LastIndex(out, cursorOff) > strings.LastIndex(out, cursorOn) {
		return errors.New("left with the cursor hidden")
	}
	return nil
}

// TestTUINeedsTerminalStdin: a terminal on stdout but /dev/null on stdin
// (workbench </dev/null) gets a clear error before anything touches the
// terminal or the database.
func TestTUINeedsTerminalStdin(t *testing.T) {
	master, slave := openPTY(t)
	collect := screen(master)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	db := filepath.Join(t.TempDir(), "runs.db")
	var errb bytes.Buffer
	code := runMain(context.Background(), []string{"--db", db},
		IO{In: devnull, Out: slave, Err: &errb, IsTTY: true, Getenv: func(string) string { return "" }})
	slave.Close()
	out := collect()
	if code != 2 || !strings.Contains(errb.String(), "the terminal UI needs a terminal on stdin and stdout; use a verb, e.g. workbench runs") {
		t.Errorf("exit %d, stderr:\n%s", code, errb.String())
	}
	if strings.Contains(out, altOn) || strings.Contains(out, cursorOff) {
		t.Errorf("the terminal was taken: %q", out)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the database was created: %v", err)
	}
}

// TestNoVerbOffTerminal: flags without a verb in a script (workbench --db
// X | cat) say the UI needs a terminal and list the verbs, not "unknown
// command --db".
func TestNoVerbOffTerminal(t *testing.T) {
	var out, errb bytes.Buffer
	code := runMain(context.Background(), []string{"--db", filepath.Join(t.TempDir(), "x.db")},
		IO{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(string) string { return "" }})
	e := errb.String()
	if code != 2 || !strings.Contains(e, "needs a terminal") || !strings.Contains(e, "  runs ") || strings.Contains(e, "unknown command") {
		t.Errorf("exit %d, stderr:\n%s", code, e)
	}
}

type stillModel struct{}

func (stillModel) Init() tea.Cmd                         { return nil }
func (m stillModel) Update(tea.Msg) (tea.Model, tea.Cmd) { return m, nil }
func (stillModel) View() string                          { return "a screen" }

// TestRunProgramRestoresTerminalOnStartFailure: bubbletea takes the
// terminal (alternate screen, hidden cursor) and then fails to poll an
// input it cannot watch (/dev/null), returning without giving the terminal
// back; runProgram must give it back.
func TestRunProgramRestoresTerminalOnStartFailure(t *testing.T) {
	master, slave := openPTY(t)
	collect := screen(master)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	err = runProgram(context.Background(), stillModel{}, devnull, slave)
	slave.Close()
	out := collect()
	if err == nil {
		t.Fatal("the UI started on /dev/null; this test needs a start failure")
	}
	if !strings.Contains(out, altOn) {
		t.Fatalf("the failure came before the terminal was taken (%v); the test checks nothing: %q", err, out)
	}
	if rerr := restored(out); rerr != nil {
		t.Errorf("after %v: %v; the terminal got %q", err, rerr, out)
	}
}
