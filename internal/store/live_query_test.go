package store

import (
	"math"
	"testing"
	"time"
)

// LatestPoints gives the newest n points of each run and key, in step
// order, with their times; a resumed run's re-logged steps keep the first
// value, keys and runs without points are absent.
func TestLatestPoints(t *testing.T) {
	s := openTemp(t)
	mustStudy(t, s, "x")
	r1 := mustRun(t, s, "x", "a", 1, nil)
	r2 := mustRun(t, s, "x", "b", 1, nil)
	r3 := mustRun(t, s, "x", "c", 1, nil)
	t0 := time.UnixMilli(1_700_000_000_000)
	var pts []Metric
	for step := 1; step <= 50; step++ {
		at := t0.Add(time.Duration(step) * time.Second)
		pts = append(pts,
			Metric{RunID: r1, Key: "lr", Step: step, Epoch: (step-1)/20 + 1, Value: float64(step), Time: at},
			Metric{RunID: r1, Key: "images_per_sec", Step: step, Epoch: (step-1)/20 + 1, Value: 100 + float64(step), Time: at})
	}
	pts = append(pts, Metric{RunID: r1, Key: "lr", Step: 50, Epoch: 3, Value: 999, Time: t0.Add(time.Hour)})
	pts = append(pts, Metric{RunID: r2, Key: "lr", Step: 7, Epoch: 1, Value: math.NaN(), Time: t0})
	if err := s.LogMetrics(ctx, pts); err != nil {
		t.Fatal(err)
	}
	got, err := s.LatestPoints(ctx, []int64{r1, r2, r3}, []string{"lr", "images_per_sec", "loss.kd"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	lr := got[r1]["lr"]
	if len(lr) != 3 || lr[0].Step != 48 || lr[2].Step != 50 || lr[2].Value != 50 || lr[2].Epoch != 3 ||
		!lr[2].Time.Equal(t0.Add(50*time.Second)) || lr[2].N != 1 {
		t.Errorf("run %d lr: %+v", r1, lr)
	}
	if ips := got[r1]["images_per_sec"]; len(ips) != 3 || ips[2].Value != 150 {
		t.Errorf("run %d images_per_sec: %+v", r1, ips)
	}
	if p := got[r2]["lr"]; len(p) != 1 || p[0].Step != 7 || !math.IsNaN(p[0].Value) {
		t.Errorf("run %d lr: %+v", r2, p)
	}
	if _, ok := got[r1]["loss.kd"]; ok {
		t.Error("a key without points is present")
	}
	if _, ok := got[r3]; ok {
		t.Error("a run without points is present")
	}
	if none, err := s.LatestPoints(ctx, []int64{r1}, []string{"lr"}, 0); err != nil || len(none) != 0 {
		t.Errorf("n = 0: %v %v", none, err)
	}
}
