package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // the workbench's SQLite driver (cgo)
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

type NoopArgs struct {
	N int `json:"n"`
}

func (NoopArgs) Kind() string { return "noop" }

func openSQLite(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // as riversqlite's package doc recommends
	return db, nil
}

func sqliteClient(db *sql.DB, name string, workers *river.Workers) (*river.Client[*sql.Tx], error) {
	cfg := &river.Config{
		ID:                name,
		FetchPollInterval: 100 * time.Millisecond,
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if workers != nil {
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}}
	}
	return river.NewClient(riversqlite.New(db), cfg)
}

// riverSQLite: River on SQLite through mattn/go-sqlite3: migrate, insert,
// work in this process, then two worker processes sharing the file.
func riverSQLite(args []string) error {
	fs := flag.NewFlagSet("sqlite", flag.ExitOnError)
	jobs := fs.Int("jobs", 200, "jobs for the two-process run")
	fs.Parse(args)
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "queue-eval-sqlite")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "river.db")
	db, err := openSQLite(path)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		return err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("rivermigrate on mattn/go-sqlite3: %w", err)
	}
	fmt.Printf("sqlite: rivermigrate applied %d migrations with mattn/go-sqlite3\n", len(res.Versions))
	var tables []string
	rows, _ := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	fmt.Printf("sqlite: tables %s\n", strings.Join(tables, ", "))

	// In process.
	var worked atomic.Int64
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[NoopArgs]) error {
		worked.Add(1)
		return nil
	}))
	client, err := sqliteClient(db, "inproc", workers)
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	t := time.Now()
	for i := 0; i < 20; i++ {
		if _, err := client.Insert(ctx, NoopArgs{N: i}, nil); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	ok := waitFor(30*time.Second, func() bool { return worked.Load() == 20 })
	var completed int
	waitFor(5*time.Second, func() bool {
		db.QueryRow(`SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&completed)
		return completed == 20
	})
	fmt.Printf("sqlite: in-process client: 20 jobs inserted, %d worked, %d completed in %.2f s (ok=%v)\n", worked.Load(), completed, time.Since(t).Seconds(), ok)
	if err := client.Stop(ctx); err != nil {
		return err
	}

	// Two worker processes on one file.
	ins, err := sqliteClient(db, "inserter", nil)
	if err != nil {
		return err
	}
	params := make([]river.InsertManyParams, *jobs)
	for i := range params {
		params[i] = river.InsertManyParams{Args: NoopArgs{N: i}}
	}
	if _, err := ins.InsertMany(ctx, params); err != nil {
		return fmt.Errorf("insert many: %w", err)
	}
	self, _ := os.Executable()
	t = time.Now()
	var procs []*exec.Cmd
	logs := make([]*strings.Builder, 2)
	for i := range 2 {
		logs[i] = &strings.Builder{}
		cmd := exec.Command(self, "sqlite-worker", "-path", path, "-name", fmt.Sprintf("p%d", i+1))
		cmd.Stderr = logs[i]
		if err := cmd.Start(); err != nil {
			return err
		}
		procs = append(procs, cmd)
	}
	ok = waitFor(120*time.Second, func() bool {
		db.QueryRow(`SELECT count(*) FROM river_job WHERE state = 'completed'`).Scan(&completed)
		return completed == 20+*jobs
	})
	el := time.Since(t)
	for _, p := range procs {
		p.Process.Signal(os.Interrupt)
		p.Wait()
	}
	var busy, errLines int
	for _, l := range logs {
		busy += strings.Count(l.String(), "database is locked")
		errLines += strings.Count(l.String(), "level=ERROR")
	}
	var byP1, byP2 int
	db.QueryRow(`SELECT count(*) FROM river_job WHERE attempted_by LIKE '%p1%'`).Scan(&byP1)
	db.QueryRow(`SELECT count(*) FROM river_job WHERE attempted_by LIKE '%p2%'`).Scan(&byP2)
	fmt.Printf("sqlite: 2 worker processes, %d jobs: %d completed in %.2f s (ok=%v; worked by p1 %d, p2 %d); %d 'database is locked' and %d ERROR log lines\n",
		*jobs, completed-20, el.Seconds(), ok, byP1, byP2, busy, errLines)
	if errLines > 0 {
		for _, l := range logs {
			for _, line := range strings.Split(l.String(), "\n") {
				if strings.Contains(line, "level=ERROR") {
					fmt.Println("  ", line)
					break
				}
			}
		}
	}
	return nil
}

func riverSQLiteWorker(args []string) error {
	fs := flag.NewFlagSet("sqlite-worker", flag.ExitOnError)
	path := fs.String("path", "", "db file")
	name := fs.String("name", "p", "name")
	fs.Parse(args)
	ctx := context.Background()
	db, err := openSQLite(*path)
	if err != nil {
		return err
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[NoopArgs]) error {
		time.Sleep(5 * time.Millisecond)
		return nil
	}))
	client, err := sqliteClient(db, *name, workers)
	if err != nil {
		return err
	}
	if err := client.Start(ctx); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signalNotify(sig)
	<-sig
	return client.Stop(ctx)
}
