// Command queue-eval measures River (github.com/riverqueue/river) against the
// workbench's run-queue requirements (issue 11) and compares goose and
// golang-migrate with the workbench's own migration runner. See README.md and
// docs/queue-eval.md in the repository root.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "river-worker": // internal: one worker process
		err = riverWorker(args)
	case "kill", "live", "zombie", "sigterm":
		err = riverScenario(cmd, args)
	case "wb-kill", "wb-zombie":
		err = wbScenario(cmd, args)
	case "wb-worker": // internal
		err = wbWorker(args)
	case "sqlite":
		err = riverSQLite(args)
	case "sqlite-worker": // internal
		err = riverSQLiteWorker(args)
	case "migrate":
		err = migrateEval(args)
	case "migrate-one": // internal: one migrator process
		err = migrateOne(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "queue-eval:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: queue-eval kill|live|zombie|sigterm|sqlite|migrate|wb-kill|wb-zombie [flags]
  PostgreSQL: -db URL (default $WORKBENCH_TEST_PG with the database renamed to rivereval)`)
	os.Exit(2)
}
