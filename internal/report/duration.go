package report

import (
	"fmt"
	"time"
)

// Duration prints a duration as the workbench does everywhere (CLI and
// TUI): whole seconds under a minute ("2s"), minutes and seconds under an
// hour ("1m05s"), hours and minutes above ("1h02m"); "-" for a negative
// one (a clock that went back).
func Duration(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
}
