//go:build faultinject

package fault

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var (
	mu     sync.Mutex
	hits   = map[string]int{}
	killAt = parse(os.Getenv("WORKBENCH_FAULT"))
)

func parse(spec string) map[string]int {
	out := map[string]int{}
	for _, f := range strings.Split(spec, ",") {
		name, n, ok := strings.Cut(strings.TrimSpace(f), ":")
		if !ok {
			continue
		}
		k, err := strconv.Atoi(n)
		if err != nil || k <= 0 {
			panic(fmt.Sprintf("WORKBENCH_FAULT: %q: want NAME:N with N > 0", f))
		}
		out[name] = k
	}
	return out
}

// Point kills the process with SIGKILL the N-th time it reaches name, when
// $WORKBENCH_FAULT says name:N.
func Point(name string) {
	mu.Lock()
	hits[name]++
	kill := killAt[name] != 0 && hits[name] == killAt[name]
	mu.Unlock()
	if kill {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL is not delivered synchronously everywhere
	}
}
