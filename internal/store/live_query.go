package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// LatestPoints returns the newest n logged points of each key of each run,
// in step order, by run and key (runs or keys with no point are absent).
// Live views read a running run's progress from them: the metric stream
// is written as the trainer logs, not only with the heartbeat. Each
// (run, key) is one index range scan from the newest step, so the cost is
// n points, however long the run.
func (s *Store) LatestPoints(ctx context.Context, ids []int64, keys []string, n int) (map[int64]map[string][]Point, error) {
	out := map[int64]map[string][]Point{}
	if n <= 0 {
		return out, nil
	}
	for _, id := range ids {
		for _, key := range keys {
			pts, err := s.latestPoints(ctx, id, key, n)
			if err != nil {
				return nil, fmt.Errorf("store: latest %s points of run %d: %w", key, id, err)
			}
			if len(pts) == 0 {
				continue
			}
			if out[id] == nil {
				out[id] = map[string][]Point{}
			}
			out[id][key] = pts
		}
	}
	return out, nil
}

func (s *Store) latestPoints(ctx context.Context, id int64, key string, n int) ([]Point, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT step, epoch, value, time FROM metrics
		WHERE run_id = ? AND key = ? ORDER BY step DESC LIMIT ?`, id, key, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pts []Point
	for rows.Next() {
		var p Point
		var v sql.NullFloat64
		var t sql.NullInt64
		if err := rows.Scan(&p.Step, &p.Epoch, &v, &t); err != nil {
			return nil, err
		}
		p.Value, p.Time, p.N = floatOrNaN(v), fromMS(t), 1
		pts = append(pts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.Reverse(pts)
	return pts, nil
}
