package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/golang-migrate/migrate/v4"
	mpgx "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	msqlite "github.com/golang-migrate/migrate/v4/database/sqlite3"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/mksmt/workbench/internal/store"
)

// The workbench's own migrations, read from the repository (the same files
// internal/store embeds), rewritten into each tool's naming convention. An
// embed.FS is an fs.FS, so this is exactly what an embedded set would be.
var migrationsDir = "../../internal/store/migrations"

// gooseWhole: wrap each file in -- +goose StatementBegin/End.
var gooseWhole = true

// brokenSQL is appended as migration 10 to see whether a failing migration
// leaves half its statements behind.
const brokenSQL = "CREATE TABLE eval_partial (x INTEGER);\nSELECT no_such_column FROM runs;\n"

// toolFS builds the tool's source for one dialect: versions 1..upTo of the
// workbench's migrations (+ the broken 10 when broken).
func toolFS(tool, dialect string, upTo int, broken bool) (fs.FS, error) {
	dir := filepath.Join(migrationsDir, dialect)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := fstest.MapFS{}
	add := func(v int, name, body string) {
		switch tool {
		case "goose":
			// goose splits a file at semicolons; a PL/pgSQL body ($$ … $$)
			// must be marked as one statement. gooseWhole marks every file
			// as one statement (what the workbench's runner executes).
			if gooseWhole {
				body = "-- +goose StatementBegin\n" + body + "\n-- +goose StatementEnd\n"
			}
			m[fmt.Sprintf("%s/%04d_%s.sql", dialect, v, name)] = &fstest.MapFile{Data: []byte("-- +goose Up\n" + body)}
		case "migrate":
			m[fmt.Sprintf("%s/%04d_%s.up.sql", dialect, v, name)] = &fstest.MapFile{Data: []byte(body)}
		}
	}
	for _, e := range ents {
		var v int
		if _, err := fmt.Sscanf(e.Name(), "%04d_", &v); err != nil || v > upTo {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		add(v, strings.TrimSuffix(e.Name()[5:], ".sql"), string(b))
	}
	if broken {
		add(10, "broken", brokenSQL)
	}
	return fs.Sub(m, dialect) // per-dialect directory
}

type target struct {
	dialect string // sqlite or postgres
	dsn     string // file path or URL with search_path
}

func openDB(t target) (*sql.DB, error) {
	if t.dialect == "sqlite" {
		return sql.Open("sqlite3", "file:"+t.dsn+"?_busy_timeout=10000&_journal_mode=WAL")
	}
	return sql.Open("pgx", t.dsn)
}

// runTool migrates t up with tool using src (nil: the full set).
// locker: goose only, use the PostgreSQL advisory-lock session locker.
func runTool(ctx context.Context, tool string, t target, upTo int, broken, locker bool) error {
	if tool == "workbench" {
		if t.dialect == "sqlite" {
			s, err := store.Open(t.dsn)
			if err == nil {
				s.Close()
			}
			return err
		}
		dir, _ := os.MkdirTemp("", "qe-art")
		defer os.RemoveAll(dir)
		s, err := store.OpenURL(t.dsn, store.Options{Artifacts: dir})
		if err == nil {
			s.Close()
		}
		return err
	}
	src, err := toolFS(tool, t.dialect, upTo, broken)
	if err != nil {
		return err
	}
	db, err := openDB(t)
	if err != nil {
		return err
	}
	defer db.Close()
	switch tool {
	case "goose":
		d := goose.DialectPostgres
		if t.dialect == "sqlite" {
			d = goose.DialectSQLite3
		}
		var opts []goose.ProviderOption
		if locker && t.dialect == "postgres" {
			l, err := lock.NewPostgresSessionLocker()
			if err != nil {
				return err
			}
			opts = append(opts, goose.WithSessionLocker(l))
		}
		p, err := goose.NewProvider(d, db, src, opts...)
		if err != nil {
			return err
		}
		_, err = p.Up(ctx)
		return err
	case "migrate":
		s, err := iofs.New(src, ".")
		if err != nil {
			return err
		}
		var drv interface{ Close() error }
		var m *migrate.Migrate
		if t.dialect == "sqlite" {
			dd, err := msqlite.WithInstance(db, &msqlite.Config{})
			if err != nil {
				return err
			}
			drv = dd
			m, err = migrate.NewWithInstance("iofs", s, "sqlite3", dd)
			if err != nil {
				return err
			}
		} else {
			dd, err := mpgx.WithInstance(db, &mpgx.Config{})
			if err != nil {
				return err
			}
			drv = dd
			m, err = migrate.NewWithInstance("iofs", s, "pgx5", dd)
			if err != nil {
				return err
			}
		}
		_ = drv
		err = m.Up()
		if errors.Is(err, migrate.ErrNoChange) {
			err = nil
		}
		return err
	}
	return fmt.Errorf("unknown tool %s", tool)
}

// version reads what the tool recorded.
func version(t target, tool string) string {
	db, err := openDB(t)
	if err != nil {
		return err.Error()
	}
	defer db.Close()
	var q string
	switch tool {
	case "goose":
		q = `SELECT COALESCE(MAX(version_id), -1) || '' FROM goose_db_version WHERE is_applied`
	case "migrate":
		q = `SELECT version || CASE WHEN dirty THEN ' (dirty)' ELSE '' END FROM schema_migrations`
	case "workbench":
		q = `SELECT COALESCE(MAX(version), 0) || '' FROM schema_migrations`
	}
	var v string
	if err := db.QueryRow(q).Scan(&v); err != nil {
		return "err: " + err.Error()
	}
	return v
}

func tableExists(t target, name string) bool {
	db, err := openDB(t)
	if err != nil {
		return false
	}
	defer db.Close()
	var n int
	if t.dialect == "sqlite" {
		db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = ?`, name).Scan(&n)
	} else {
		db.QueryRow(`SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`, name).Scan(&n)
	}
	return n > 0
}

type pgSchemas struct {
	base  string
	admin *sql.DB
	mu    sync.Mutex
	made  []string
}

func (p *pgSchemas) fresh(name string) (target, error) {
	if _, err := p.admin.Exec(fmt.Sprintf(`DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s`, name, name)); err != nil {
		return target{}, err
	}
	p.mu.Lock()
	p.made = append(p.made, name)
	p.mu.Unlock()
	u, _ := url.Parse(p.base)
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return target{"postgres", u.String()}, nil
}

func (p *pgSchemas) cleanup() {
	for _, s := range p.made {
		p.admin.Exec(fmt.Sprintf(`DROP SCHEMA IF EXISTS %s CASCADE`, s))
	}
}

func errLine(err error) string {
	if err == nil {
		return "ok"
	}
	s := err.Error()
	if len(s) > 220 {
		s = s[:220] + "…"
	}
	return "ERROR: " + strings.ReplaceAll(s, "\n", " ")
}

func migrateEval(args []string) error {
	fset := flag.NewFlagSet("migrate", flag.ExitOnError)
	dbFlag := fset.String("db", "", "PostgreSQL URL (default: $WORKBENCH_TEST_PG, database rivereval)")
	procs := fset.Int("procs", 8, "concurrent migrator processes")
	rounds := fset.Int("rounds", 3, "rounds of the concurrency test")
	fset.StringVar(&migrationsDir, "src", migrationsDir, "the workbench's migrations directory")
	fset.BoolVar(&gooseWhole, "goose-whole", gooseWhole, "goose: mark each file as one statement (StatementBegin/End)")
	fset.Parse(args)
	ctx := context.Background()
	base, err := evalURL(ctx, *dbFlag)
	if err != nil {
		return err
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return err
	}
	defer admin.Close()
	pg := &pgSchemas{base: base, admin: admin}
	defer pg.cleanup()
	tmp, _ := os.MkdirTemp("", "qe-mig")
	defer os.RemoveAll(tmp)
	n := 0
	newTarget := func(dialect, tool string) (target, error) {
		n++
		if dialect == "sqlite" {
			return target{"sqlite", filepath.Join(tmp, fmt.Sprintf("%s%d.db", tool, n))}, nil
		}
		return pg.fresh(fmt.Sprintf("mig_%s_%d", tool, n))
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, tool := range []string{"goose", "migrate", "workbench"} {
			// 1. Up from empty, the 9 workbench migrations.
			t, err := newTarget(dialect, tool)
			if err != nil {
				return err
			}
			st := time.Now()
			err = runTool(ctx, tool, t, 99, false, true)
			fmt.Printf("%-8s %-9s up from empty: %s in %d ms, version %s\n", dialect, tool, errLine(err), time.Since(st).Milliseconds(), version(t, tool))
			if tool == "workbench" {
				// 3. newer database: record a version 10 this binary does not know.
				db, _ := openDB(t)
				ph := "?"
				if dialect == "postgres" {
					ph = "$1"
				}
				_, e := db.Exec(`INSERT INTO schema_migrations (version, name, applied) VALUES (10, 'future', `+ph+`)`, time.Now().UnixMilli())
				if e == nil && dialect == "sqlite" {
					_, e = db.Exec(`PRAGMA user_version = 10`) // the SQLite store's version
				}
				db.Close()
				if e == nil {
					err = runTool(ctx, tool, t, 99, false, true)
					fmt.Printf("%-8s %-9s database at 10, binary knows 9: %s\n", dialect, tool, errLine(err))
				}
				continue
			}
			// 3. Newer database than the binary: the binary knows only 1..8.
			if err == nil {
				err = runTool(ctx, tool, t, 8, false, true)
				fmt.Printf("%-8s %-9s database at 9, binary knows 1..8: %s; version now %s\n", dialect, tool, errLine(err), version(t, tool))
			}
			// 2. A failing migration: one transaction per migration?
			if err := runTool(ctx, tool, t, 99, true, true); err != nil {
				fmt.Printf("%-8s %-9s broken migration 10: %s\n", dialect, tool, errLine(err))
			} else {
				fmt.Printf("%-8s %-9s broken migration 10: no error?!\n", dialect, tool)
			}
			fmt.Printf("%-8s %-9s   after it: its first statement's table exists: %v; version %s\n", dialect, tool, tableExists(t, "eval_partial"), version(t, tool))
			// ... and may the fixed binary (no broken 10) go on?
			err = runTool(ctx, tool, t, 99, false, true)
			fmt.Printf("%-8s %-9s   rerun without the broken file: %s; version %s\n", dialect, tool, errLine(err), version(t, tool))
		}
	}
	// 4. Concurrent migrators on PostgreSQL: procs processes on one empty schema.
	self, _ := os.Executable()
	for _, c := range []struct{ tool, extra string }{{"goose", "-locker=false"}, {"goose", "-locker=true"}, {"migrate", ""}, {"workbench", ""}} {
		fails, total := 0, 0
		var msgs []string
		var ms []int64
		for r := 0; r < *rounds; r++ {
			t, err := newTarget("postgres", c.tool)
			if err != nil {
				return err
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			st := time.Now()
			for i := 0; i < *procs; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					args := []string{"migrate-one", "-tool", c.tool, "-dsn", t.dsn, "-src", migrationsDir, fmt.Sprintf("-goose-whole=%v", gooseWhole)}
					if c.extra != "" {
						args = append(args, c.extra)
					}
					out, err := exec.Command(self, args...).CombinedOutput()
					mu.Lock()
					defer mu.Unlock()
					total++
					if err != nil {
						fails++
						msgs = append(msgs, strings.TrimSpace(string(out)))
					}
				}()
			}
			wg.Wait()
			ms = append(ms, time.Since(st).Milliseconds())
			msgs = append(msgs, "final version "+version(t, c.tool))
		}
		sort.Strings(msgs)
		uniq := []string{}
		for i, m := range msgs {
			if i == 0 || m != msgs[i-1] {
				if len(m) > 200 {
					m = m[:200] + "…"
				}
				uniq = append(uniq, m)
			}
		}
		fmt.Printf("postgres %-9s %-13s %d×%d concurrent migrators on an empty schema: %d of %d failed; wall ms per round %v\n", c.tool, c.extra, *rounds, *procs, fails, total, ms)
		for _, m := range uniq {
			fmt.Printf("    %s\n", m)
		}
	}
	return nil
}

func migrateOne(args []string) error {
	fset := flag.NewFlagSet("migrate-one", flag.ExitOnError)
	tool := fset.String("tool", "goose", "goose|migrate|workbench")
	dsn := fset.String("dsn", "", "URL")
	locker := fset.Bool("locker", true, "goose: advisory-lock session locker")
	fset.StringVar(&migrationsDir, "src", migrationsDir, "migrations dir")
	fset.BoolVar(&gooseWhole, "goose-whole", gooseWhole, "")
	fset.Parse(args)
	return runTool(context.Background(), *tool, target{"postgres", *dsn}, 99, false, *locker)
}
