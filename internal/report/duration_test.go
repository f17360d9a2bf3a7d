package report

import (
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 1400 * time.Millisecond: "1s", 2 * time.Second: "2s", 59*time.Second + 600*time.Millisecond: "1m00s",
		65 * time.Second: "1m05s", 47*time.Minute + 21*time.Second: "47m21s", time.Hour + 2*time.Minute + 59*time.Second: "1h02m",
		26 * time.Hour: "26h00m", -time.Second: "-",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
